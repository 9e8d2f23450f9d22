"""The merge-patch the patroni role sends to Patroni's /config: only what differs."""

from ssas_deploy.jinja_filters import config_changes


def test_nothing_differs_when_values_match_as_text():
    current = {"ttl": 30, "synchronous_mode": True,
               "postgresql": {"parameters": {"max_connections": 100, "wal_log_hints": "on"},
                              "use_slots": True}}
    wanted = {"ttl": "30", "synchronous_mode": True,
              "postgresql": {"parameters": {"max_connections": "100", "wal_log_hints": True}}}
    assert config_changes(current, wanted) == {}


def test_changed_and_missing_values_are_the_patch_and_extra_keys_are_left_alone():
    current = {"ttl": 30, "loop_wait": 10, "failsafe_mode": True,
               "postgresql": {"parameters": {"max_connections": 100}}}
    wanted = {"ttl": 30, "loop_wait": 5, "synchronous_mode": True,
              "postgresql": {"use_pg_rewind": True,
                             "parameters": {"max_connections": 150, "wal_log_hints": "on"}}}
    assert config_changes(current, wanted) == {
        "loop_wait": 5, "synchronous_mode": True,
        "postgresql": {"use_pg_rewind": True,
                       "parameters": {"max_connections": 150, "wal_log_hints": "on"}}}


def test_an_empty_store_gets_everything():
    wanted = {"ttl": 30, "postgresql": {"parameters": {"max_connections": 25}}}
    assert config_changes(None, wanted) == wanted
    assert config_changes({}, wanted) == wanted
