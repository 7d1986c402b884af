"""The web dashboard: static HTML, CSS and JavaScript ES modules served by the gateway at ``/ui``."""
