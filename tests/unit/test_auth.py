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
