# shellcheck shell=bash
# Inventories in the shape of Pigsty's configuration templates (written for
# these tests, not copied): what each resolves to through "pgbkp config", and
# backups and restores through the ones that can run here.

# pigsty_minio_inventory FILE: two clusters, as Pigsty's ha templates have;
# this test's cluster (the group pg-test) uses the minio repository shape of
# Pigsty's defaults and ha/safe (per-cluster passphrase through
# ${pg_cluster}), pointed at the test S3 server; pg-meta keeps the default.
pigsty_minio_inventory() {
    cat >"$1" <<EOF
all:
  children:
    pg-meta:
      hosts: {10.10.10.10: {pg_seq: 1, pg_role: primary}}
      vars:
        pg_cluster: pg-meta
        pg_crontab: ['00 01 * * * /pg/bin/pg-backup full']
    pg-test:
      hosts:
        127.0.0.1: {pg_seq: 1, pg_role: primary}
      vars:
        pg_cluster: $CLUSTER
        pg_port: ${PG_PORT[main]}
        pg_data: ${PG_DATA[main]}
        patroni_enabled: false
        pgbackrest_method: minio
        pgbackrest_log_dir: $ROOT/log/pgbackrest
        pg_crontab:
          - '00 01 * * 1 /pg/bin/pg-backup full'
          - '00 01 * * 2,3,4,5,6,7 /pg/bin/pg-backup'
  vars:
    pg_fs_backup: /data/backups
    pgbackrest_repo:
      local:
        path: $REPO
        retention_full_type: count
        retention_full: 2
      minio:
        type: s3
        s3_endpoint: $S3_ENDPOINT
        s3_region: $S3_REGION
        s3_bucket: $S3_BUCKET
        s3_key: '$S3_KEY'
        s3_key_secret: '$S3_SECRET'
        s3_uri_style: path
        path: '/pgbackrest/\${pg_cluster}'
        storage_port: $S3_PORT
        storage_ca_file: $S3_CA_FILE
        block: y
        bundle: y
        bundle_limit: 20MiB
        bundle_size: 128MiB
        cipher_type: aes-256-cbc
        cipher_pass: 'pgBR.\${pg_cluster}'
        retention_full_type: time
        retention_full: 14
EOF
    chmod 644 "$1"
}

test_pigsty_minio_inventory_backup_restore() {
    s3_start --https
    REPO_CONFIG=$ROOT/pigsty.yml
    as_pg mkdir -p "$ROOT/log/pgbackrest"
    pg_init main
    pigsty_minio_inventory "$REPO_CONFIG"
    pg_start main

    # what it resolves to: the repository Pigsty's pgBackRest would use
    run pgbkp config --output json
    assert_rc 0 "config"
    local j=$RUN_OUT
    assert_eq "minio s3 /pgbackrest/$CLUSTER $S3_BUCKET $S3_PORT" \
        "$(jq -r '.repositories[0] | "\(.name) \(.type) \(.path) \(.s3_bucket) \(.storage_port)"' "$j")" "the minio repository"
    assert_eq "true aes-256-cbc 14 time 128 0" \
        "$(jq -r '.repositories[0] | "\(.encrypted) \(.cipher_type) \(.retention_full) \(.retention_full_type) \(.bundle_size_mib) \(.warnings | length)"' "$j")" \
        "cipher, retention and bundles of the minio repository"
    jq -r '.repositories[0].cipher_pass' "$j" | grep -Eq "^\(set, from .*pigsty\.yml:[0-9]+\)$" ||
        fail "cipher_pass is not shown as where it was set: $(jq -r '.repositories[0].cipher_pass' "$j")"
    ! grep -q "pgBR\.$CLUSTER\|$S3_SECRET" "$j" || fail "config shows a secret"
    assert_eq "backup-full:full backup-incr:incr" "$(jq -r '[.schedule[] | .name + ":" + .type] | join(" ")' "$j")" "schedule from pg_crontab"
    jq -r '.settings.patroni_port.source' "$j" | grep -qx "default" || fail "patroni_port is not a default"

    # back up and restore through it
    expect_rc 0 pgbkp init
    pg_sql main "create table t(id int primary key, note text)"
    pg_sql main "insert into t select g, 'A' from generate_series(1,100) g"
    expect_rc 0 pgbkp backup --type full
    pg_sql main "insert into t select g, 'B' from generate_series(101,200) g"
    pg_switch_and_wait main >/dev/null
    expect_rc 0 pgbkp verify
    # each run also went to its log file, in pgBackRest's line format
    local lf=$ROOT/log/pgbackrest/pgbkp-$CLUSTER-backup.log
    assert_file_exists "$lf"
    grep -q " P00   INFO: backup command begin .*backup --type full" "$lf" || fail "no command begin line in $lf"
    grep -q " P00   INFO: backup command end: completed successfully" "$lf" || fail "no command end line in $lf"
    ! grep -vqE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} P00 +(ERROR|WARN|INFO|DEBUG): ' "$lf" ||
        fail "a line of $lf is not in pgBackRest's format"
    assert_file_exists "$ROOT/log/pgbackrest/pgbkp-$CLUSTER-archive-push.log"
    ! grep -q "pgBR\.$CLUSTER\|$S3_SECRET" "$ROOT"/log/pgbackrest/* || fail "a log file holds a secret"
    expect_rc 0 pgbkp restore --target-dir "$ROOT/pg/copy"
    pg_adopt copy "$ROOT/pg/copy"
    pg_start copy
    pg_wait_recovery_end copy
    assert_eq "200 100 100" "$(count_rows copy)" "rows restored through the Pigsty inventory"

    # the passphrase is the substituted one: a plain file with it opens the repository
    local plain=$ROOT/plain.yml
    {
        printf 'pgbkp:\n  cluster: %s\n  repositories: [m]\npgbackrest_repo:\n  m:\n' "$CLUSTER"
        printf '    type: s3\n    s3_endpoint: %s\n    s3_region: %s\n    s3_bucket: %s\n' "$S3_ENDPOINT" "$S3_REGION" "$S3_BUCKET"
        printf "    s3_key: '%s'\n    s3_key_secret: '%s'\n    path: /pgbackrest/%s\n" "$S3_KEY" "$S3_SECRET" "$CLUSTER"
        printf '    storage_port: %s\n    storage_ca_file: %s\n    cipher_type: aes-256-cbc\n' "$S3_PORT" "$S3_CA_FILE"
    } >"$plain"
    cp "$plain" "$plain.wrong"
    printf '    cipher_pass: pgBR.%s\n' "$CLUSTER" >>"$plain"
    printf "    cipher_pass: 'pgBR.\${pg_cluster}'\n" >>"$plain.wrong"
    chmod 644 "$plain" "$plain.wrong"
    run pgbkp_raw --config "$plain" info --output json
    assert_rc 0 "info with the substituted passphrase"
    assert_eq 1 "$(jq '.backups | length' "$RUN_OUT")" "backups seen with the substituted passphrase"
    run pgbkp_raw --config "$plain.wrong" info
    assert_rc 3 "info with the literal \${pg_cluster} passphrase (not an inventory: nothing to substitute)"

    # one member's own configuration, rendered for the node: private, only this cluster
    local node=$ROOT/work/node.yml
    as_pg sh -c "exec '$INST/bin/pgbkp' --config '$REPO_CONFIG' --cluster '$CLUSTER' config --instance '$CLUSTER-1' --render > '$node'"
    assert_eq 600 "$(stat -c %a "$node")" "mode of the rendered configuration"
    ! grep -q "pg-meta" "$node" || fail "the rendered configuration holds another cluster"
    run pgbkp_raw --config "$node" info --output json
    assert_rc 0 "info with the rendered configuration"
    assert_eq 1 "$(jq '.backups | length' "$RUN_OUT")" "backups seen through the rendered configuration"
    run pgbkp_raw --config "$node" config --output json
    assert_eq "minio /pgbackrest/$CLUSTER 128" "$(jq -r '.repositories[0] | "\(.name) \(.path) \(.bundle_size_mib)"' "$RUN_OUT")" \
        "the rendered configuration resolves to the same repository"
}

test_pigsty_defaults_only_inventories() {
    # no pgbackrest_* keys at all (most of Pigsty's templates): Pigsty's role defaults
    local inv=$ROOT/work/meta.yml
    printf 'all:\n  children:\n    pg-meta:\n      hosts: {10.10.10.10: {pg_seq: 1, pg_role: primary}}\n      vars: {pg_cluster: pg-meta}\n' >"$inv"
    chmod 644 "$inv"
    run pgbkp_raw --config "$inv" config --output json
    assert_rc 0 "config of a defaults-only inventory"
    # Pigsty's default log directory does not exist here: no warning
    ! grep -q "log file" "$RUN_ERR" || fail "a warning about the default log directory"
    assert_eq "/pg/log/pgbackrest" "$(jq -r .settings.log_path.value "$RUN_OUT")" "Pigsty's default log directory"
    assert_eq "Pigsty v4.5.0 role default (pgbackrest_log_dir)" "$(jq -r .settings.log_path.source "$RUN_OUT")" "its source"
    assert_eq "local posix /pg/backup 2 count" \
        "$(jq -r '.repositories[0] | "\(.name) \(.type) \(.path) \(.retention_full) \(.retention_full_type)"' "$RUN_OUT")" "the default local repository"
    jq -r '.repositories[0].source' "$RUN_OUT" | grep -q "Pigsty v4.5.0 role default" || fail "the default is not named as Pigsty's"
    # pgbackrest_method: minio without pgbackrest_repo: the role's minio entry
    printf '  vars: {pgbackrest_method: minio}\n' >>"$inv"
    run pgbkp_raw --config "$inv" config --output json
    assert_rc 0 "config with the minio method"
    assert_eq "minio sss.pigsty pgsql 9000 /etc/pki/ca.crt aes-256-cbc 14 time 128" \
        "$(jq -r '.repositories[0] | "\(.name) \(.s3_endpoint) \(.s3_bucket) \(.storage_port) \(.storage_ca_file) \(.cipher_type) \(.retention_full) \(.retention_full_type) \(.bundle_size_mib)"' "$RUN_OUT")" \
        "the default minio repository"
    # a key pgbkp does not honour draws one warning with its file and line
    printf 'all:\n  children:\n    pg-meta:\n      hosts: {10.10.10.10: {pg_seq: 1}}\n      vars: {pg_cluster: pg-meta}\n  vars:\n    pgbackrest_repo:\n      local: {path: %s, retention_diff: 3, repo_hardlink: y}\n' "$REPO" >"$inv"
    run pgbkp_raw --config "$inv" config
    assert_rc 0 "config with an unknown repository key"
    assert_output_matches "warning: .*meta\.yml:8: pgbackrest_repo\.local\.repo_hardlink: ignored"
    assert_eq 1 "$(grep -c 'pgbkp: warning: ' "$RUN_ERR")" "warnings on stderr (retention_diff is honoured, not warned about)"
}
