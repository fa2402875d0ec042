# shellcheck shell=bash
# Configuration sources: command line, PGBKP_* environment, a pgbkp YAML
# file (--config / PGBKP_CONFIG) and a Pigsty inventory all reach the same
# repository and server; precedence is options > environment > file.

config_fixture() {
    pg_init main
    pg_start main
    expect_rc 0 pgbkp init
    pg_sql main "create table t(id int); insert into t select generate_series(1,10)"
    expect_rc 0 pgbkp backup --type full
    LABEL=$(backup_labels | tail -n 1)
    [ -n "$LABEL" ] || fail "no backup listed"
}

test_config_env_and_yaml() {
    config_fixture
    run pgbkp_raw PGBKP_CLUSTER="$CLUSTER" PGBKP_REPO_PATH="$REPO" info --output json
    assert_rc 0 "info via environment"
    assert_eq "$LABEL" "$(jq -r '.backups[-1].label' "$RUN_OUT")" "label via environment"
    local cfg=$ROOT/work/pgbkp.yml
    printf 'pgbkp:\n  cluster: %s\n  repo_path: %s\n  pg_port: %s\n  pg_host: %s\n  pg_data: %s\n' \
        "$CLUSTER" "$REPO" "${PG_PORT[main]}" "$SOCK" "${PG_DATA[main]}" >"$cfg"
    chmod 644 "$cfg"
    run pgbkp_raw --config "$cfg" info --output json
    assert_rc 0 "info via --config"
    assert_eq "$LABEL" "$(jq -r '.backups[-1].label' "$RUN_OUT")" "label via --config"
    run pgbkp_raw PGBKP_CONFIG="$cfg" info --output json
    assert_rc 0 "info via PGBKP_CONFIG"
    assert_eq "$LABEL" "$(jq -r '.backups[-1].label' "$RUN_OUT")" "label via PGBKP_CONFIG"
    # check needs the connection settings from the file
    run pgbkp_raw --config "$cfg" check
    assert_rc 0 "check via --config"
    # connection settings from the environment
    run pgbkp_raw PGBKP_CLUSTER="$CLUSTER" PGBKP_REPO_PATH="$REPO" PGBKP_PG_HOST="$SOCK" \
        PGBKP_PG_PORT="${PG_PORT[main]}" PGBKP_PG_DATA="${PG_DATA[main]}" check
    assert_rc 0 "check via environment"
}

test_config_pigsty_inventory() {
    config_fixture
    local inv=$ROOT/work/pigsty.yml
    cat >"$inv" <<EOF
all:
  vars:
    pg_version: 15
    pg_port: 1
  children:
    pg-meta:
      hosts: {10.10.10.10: {pg_seq: 1, pg_role: primary}}
      vars:
        pg_cluster: meta
        pgbackrest_repo: {local: {path: /nonexistent/meta-backup}}
    pg-test:
      hosts:
        127.0.0.1: {pg_seq: 1, pg_role: primary}
      vars:
        pg_cluster: $CLUSTER
        pg_port: ${PG_PORT[main]}
        pg_data: ${PG_DATA[main]}
        pg_fs_backup: /nonexistent/fs-backup
        pgbackrest_repo: {local: {path: $REPO}}
EOF
    chmod 644 "$inv"
    run pgbkp_raw --config "$inv" --cluster "$CLUSTER" info --output json
    assert_rc 0 "info via a Pigsty inventory"
    assert_eq "$LABEL" "$(jq -r '.backups[-1].label' "$RUN_OUT")" "label via the inventory"
    # the cluster's vars give port (over all.vars) and data directory; the
    # host (socket directory) comes from the command line
    run pgbkp_raw --config "$inv" --cluster "$CLUSTER" --pg-host "$SOCK" check
    assert_rc 0 "check via a Pigsty inventory"
}

test_config_precedence() {
    config_fixture
    local cfg=$ROOT/work/pgbkp.yml
    printf 'pgbkp:\n  cluster: %s\n  repo_path: %s\n' "$CLUSTER" "$ROOT/not-the-repo" >"$cfg"
    chmod 644 "$cfg"
    # environment beats the file
    run pgbkp_raw PGBKP_REPO_PATH="$REPO" --config "$cfg" info --output json
    assert_rc 0 "info with PGBKP_REPO_PATH over the file"
    assert_eq "$LABEL" "$(jq -r '.backups[-1].label' "$RUN_OUT")" "label"
    # options beat the environment
    run pgbkp_raw PGBKP_REPO_PATH="$ROOT/not-the-repo" --config "$cfg" --repo-path "$REPO" info --output json
    assert_rc 0 "info with --repo-path over the environment"
    assert_eq "$LABEL" "$(jq -r '.backups[-1].label' "$RUN_OUT")" "label"
}

test_config_unknown_key_exit_3() {
    local cfg=$ROOT/work/typo.yml
    printf 'pgbkp:\n  cluster: test\n  repo_pth: /tmp/x\n' >"$cfg"
    chmod 644 "$cfg"
    run pgbkp_raw --config "$cfg" info
    assert_rc 3 "pgbkp with an unknown key in a pgbkp: section"
    assert_output_contains "repo_pth" "error naming the key"
    assert_output_matches "line[^0-9]{0,3}3([^0-9]|$)|:3:" "error naming line 3"
}

test_config_missing_file_exit_3() {
    run pgbkp_raw --config "$ROOT/work/no-such.yml" info
    assert_rc 3 "pgbkp --config with a missing file"
    assert_output_contains "no-such.yml" "error naming the file"
}
