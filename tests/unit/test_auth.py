from xerotier import auth


def test_key_round_trip_and_hash_check():
    secret = auth.new_secret()
    key = auth.format_key("my-project", secret)
    parsed = auth.parse_key(key)
    assert parsed is not None
    assert parsed.project_slug == "my-project" and parsed.secret == secret
    stored = auth.hash_secret(secret)
    assert secret not in stored
    assert auth.secret_matches(secret, stored)
    assert not auth.secret_matches(secret[:-1] + ("a" if secret[-1] != "a" else "b"), stored)


def test_malformed_keys_do_not_parse():
    good = auth.format_key("proj", auth.new_secret())
    for bad in [
        "",
        "Bearer x",
        good[:-1],
        good.replace("xero_", "xeno_"),
        "xero__" + "a" * 40,
        "xero_Proj_" + "a" * 40,
        good + "!",
    ]:
        assert auth.parse_key(bad) is None, bad


def test_every_error_class_maps_to_one_http_status_at_the_gateway():
    from xerotier import errors
    from xerotier.api.http_errors import http_status_of

    assert http_status_of(errors.IllegalTransition("x")) == (409, "conflict_error")
    assert http_status_of(errors.DatabaseNotMigrated(None, "head"))[0] == 503
    assert http_status_of(errors.NotFound("x")) == (404, "not_found_error")
    assert http_status_of(errors.PermanentError("x")) == (500, "internal_error")
    found = vars(errors).values()
    classes = [c for c in found if isinstance(c, type) and issubclass(c, errors.XerotierError)]
    statuses = {http_status_of(c.__new__(c))[0] for c in classes}
    assert statuses == {400, 401, 403, 404, 409, 413, 416, 422, 500, 503}
