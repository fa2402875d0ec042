# shellcheck shell=bash
# Command-line surface: --help, --version, the man page. No server needed.

PGBKP_COMMANDS=(init backup archive-push archive-get restore info verify check)

test_help_lists_every_command() {
    run pgbkp_raw --help
    assert_rc 0 "pgbkp --help"
    local c
    for c in "${PGBKP_COMMANDS[@]}"; do
        grep -Eq -- "(^|[^a-z-])$c([^a-z-]|$)" "$RUN_OUT" ||
            fail "--help does not list the command '$c'"
    done
    # every global option of the contract is documented in --help
    for c in --config --cluster --repo-path --pg-data --pg-host --pg-port --pg-user \
             --log-level --compress-level --archive-timeout --help --version; do
        grep -Fq -- "$c" "$RUN_OUT" || fail "--help does not mention $c"
    done
}

test_version() {
    run pgbkp_raw --version
    assert_rc 0 "pgbkp --version"
    local want
    want=$(sed -n 's/^AC_INIT(\[pgbkp\], *\[\([^]]*\)\].*/\1/p' "$TOP/configure.ac")
    [ -n "$want" ] || fail "cannot read the version from configure.ac"
    assert_output_contains "$want" "--version output"
}

# man page text as plain ASCII (no overstrike, no SGR escapes)
man_text() {
    groff -man -Tascii "$1" 2>/dev/null | sed -e 's/.\x08//g' -e 's/\x1b\[[0-9;]*m//g'
}

test_man_page_renders() {
    local man=$TOP/man/pgbkp.1
    assert_file_exists "$man"
    run groff -man -Tutf8 -ww -z "$man"
    assert_rc 0 "groff -man"
    if [ -s "$RUN_ERR" ]; then
        fail "groff warnings while rendering man/pgbkp.1: $(head -n 5 "$RUN_ERR")"
    fi
    man_text "$man" >"$ROOT/work/man.txt"
    [ "$(wc -l <"$ROOT/work/man.txt")" -gt 40 ] || fail "man page renders to almost nothing"
    local s
    for s in NAME SYNOPSIS DESCRIPTION "EXIT STATUS"; do
        grep -q "^$s" "$ROOT/work/man.txt" || fail "man page lacks a $s section"
    done
    for s in "${PGBKP_COMMANDS[@]}"; do
        grep -Fq -- "$s" "$ROOT/work/man.txt" || fail "man page does not mention the command $s"
    done
}

test_man_page_documents_every_help_option() {
    # every long option that `pgbkp --help` or `pgbkp COMMAND --help` prints
    # appears in the man page (--[no-]x counts as --x)
    local man=$TOP/man/pgbkp.1 opt c missing=()
    assert_file_exists "$man"
    man_text "$man" | sed 's/--\[no-\]/--/g' >"$ROOT/work/man.txt"
    : >"$ROOT/work/help.txt"
    for c in "" "${PGBKP_COMMANDS[@]}"; do
        # shellcheck disable=SC2086
        pgbkp_raw $c --help >>"$ROOT/work/help.txt" 2>/dev/null || true
    done
    sed 's/--\[no-\]/--/g' "$ROOT/work/help.txt" |
        grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u >"$ROOT/work/help-options"
    [ -s "$ROOT/work/help-options" ] || fail "no long option found in --help output"
    echo "options in --help: $(tr '\n' ' ' <"$ROOT/work/help-options")"
    while IFS= read -r opt; do
        grep -Eq -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|$)" "$ROOT/work/man.txt" || missing+=("$opt")
    done <"$ROOT/work/help-options"
    [ ${#missing[@]} -eq 0 ] || fail "options in --help but not in man/pgbkp.1: ${missing[*]}"
}

test_command_help() {
    # `pgbkp COMMAND --help` succeeds and shows that command's own options
    run pgbkp_raw restore --help
    assert_rc 0 "pgbkp restore --help"
    for opt in --target-dir --set --time --lsn --xid --name --immediate --target-action \
               --archive-mode --delta --force --tablespace-map; do
        grep -Fq -- "$opt" "$RUN_OUT" || fail "restore --help does not mention $opt"
    done
    run pgbkp_raw info --help
    assert_rc 0 "pgbkp info --help"
    assert_output_contains "--output" "info --help"
    run pgbkp_raw backup --help
    assert_rc 0 "pgbkp backup --help"
    assert_output_contains "--type" "backup --help"
}

test_man_page_documents_exit_codes() {
    local man=$TOP/man/pgbkp.1 code
    assert_file_exists "$man"
    man_text "$man" >"$ROOT/work/man.txt"
    # the EXIT STATUS section names every code of the contract
    sed -n '/^EXIT STATUS/,/^[A-Z][A-Z ]*$/p' "$ROOT/work/man.txt" >"$ROOT/work/exit.txt"
    [ -s "$ROOT/work/exit.txt" ] || fail "no EXIT STATUS section"
    for code in 0 1 2 3 4 5 6 7 8 9 10 11 12 13; do
        grep -Eq "(^|[^0-9])$code([^0-9]|$)" "$ROOT/work/exit.txt" ||
            fail "EXIT STATUS does not document exit code $code"
    done
}

test_usage_errors_exit_2() {
    expect_rc 2 pgbkp_raw --no-such-option info
    expect_rc 2 pgbkp_raw no-such-command
    expect_rc 2 pgbkp_raw
    expect_rc 2 pgbkp_raw --cluster test --repo-path "$ROOT/repo" restore --target-action bogus
    expect_rc 2 pgbkp_raw --cluster test --repo-path "$ROOT/repo" --log-level loud info
    expect_rc 2 pgbkp_raw --cluster test --repo-path "$ROOT/repo" archive-get
    expect_rc 2 pgbkp_raw --cluster test --repo-path "$ROOT/repo" restore --time 2020-01-01 --lsn 0/1000000
}

test_help_topics() {
    # pgbkp help COMMAND is COMMAND --help: the command's own options, and a
    # pointer to the global ones instead of repeating them
    run pgbkp_raw help restore
    assert_rc 0 "pgbkp help restore"
    assert_output_contains "--target-timeline"
    assert_output_contains 'pgbkp help options'
    ! grep -Fq -- "--pg-port" "$RUN_OUT" || fail "restore's help repeats the global options"
    local lines
    lines=$(wc -l <"$RUN_OUT")
    pgbkp_raw restore --help >"$ROOT/work/restore-help.txt"
    cmp -s "$RUN_OUT" "$ROOT/work/restore-help.txt" || fail "pgbkp help restore differs from pgbkp restore --help"
    run pgbkp_raw help options
    assert_rc 0 "pgbkp help options"
    assert_output_contains "--pg-port"
    assert_output_contains "Exit status"
    assert_output_contains "cipher_pass"
    run pgbkp_raw help
    assert_rc 0 "pgbkp help"
    assert_output_contains "pgbkp help [COMMAND|options]"
    expect_rc 2 pgbkp_raw help no-such-topic
    assert_output_contains 'no help topic "no-such-topic"'
    expect_rc 2 pgbkp_raw help restore backup
    echo "restore help: $lines lines"
}

test_pgbackrest_options_get_hints() {
    # what an operator used to pgBackRest types gets the pgbkp spelling as its hint
    run pgbkp_raw --cluster test --repo-path "$ROOT/repo" --stanza=pg-meta info
    assert_rc 2 "--stanza"
    assert_output_contains "hint: pgbkp's equivalent of pgBackRest's --stanza: --cluster NAME"
    run pgbkp_raw --cluster test --repo-path "$ROOT/repo" restore --type=time "--target=2026-01-01 00:00:00"
    assert_rc 2 "--type=time --target"
    assert_output_contains 'unrecognized option "--target"'
    assert_output_contains "--type=time --target=VALUE: --time VALUE"
    ! grep -q ambiguous "$RUN_ERR" || fail "--target is called ambiguous"
    run pgbkp_raw --cluster test --repo-path "$ROOT/repo" restore --type=lsn --lsn 0/1000000
    assert_rc 2 "restore --type=lsn"
    assert_output_contains "restore --type=lsn: --lsn"
    run pgbkp_raw --cluster test --repo-path "$ROOT/repo" --pg1-path=/pg/data info
    assert_rc 2 "--pg1-path"
    assert_output_contains "--pg1-path: --pg-data DIR"
    run pgbkp_raw --cluster test --repo-path "$ROOT/repo" --repo1-retention-full=2 expire
    assert_rc 2 "--repo1-retention-full"
    assert_output_contains "--repo1-retention-full: --retention-full N"
    run pgbkp_raw --cluster test --repo-path "$ROOT/repo" --process-max=4 backup
    assert_rc 2 "--process-max"
    assert_output_contains "--jobs N"
    run pgbkp_raw --cluster test --repo-path "$ROOT/repo" --repo=1 info
    assert_rc 3 "--repo=1"
    assert_output_contains "pgBackRest numbers its repositories (--repo=1); pgbkp names them: default"
}

test_no_primary_message_whole() {
    # fifteen members that do not answer: every member named in the message
    # is named whole, and the rest are counted, never cut mid-word
    local inv=$ROOT/work/inv.yml i
    {
        echo "all:"
        echo "  children:"
        echo "    pg-test:"
        echo "      hosts:"
        for ((i = 2; i <= 16; i++)); do echo "        127.0.0.$i: {pg_seq: $i, pg_role: replica}"; done
        echo "      vars: {pg_cluster: pg-test, patroni_port: 1, pg_port: 1}"
    } >"$inv"
    chmod 644 "$inv"
    run pgbkp_raw --config "$inv" --repo-path "$ROOT/repo" --instance pg-test-2 --member-timeout 1 backup
    assert_rc 7 "backup with no primary"
    local msg
    msg=$(grep 'error: no primary found' "$RUN_ERR")
    [[ $msg =~ \.\.\.\ and\ [0-9]+\ more\ members$ ]] || fail "the message does not end with the count of members left out: $msg"
    local parts
    parts=$(sed 's/^.*: pg-test-2/pg-test-2/; s/; \.\.\. and.*$//' <<<"$msg" | tr ';' '\n')
    while IFS= read -r p; do
        [[ $p =~ ^\ ?pg-test-[0-9]+\ \(127\.0\.0\.[0-9]+\):\ Patroni\ unreachable\ \(.*\)$ ]] ||
            fail "a member's answer is cut: '$p'"
    done <<<"$parts"
}

# the long options and YAML keys that the tables define, one a line
table_options() {
    local c
    for c in "help options" $(pgbkp_raw help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}'); do
        # shellcheck disable=SC2086
        pgbkp_raw $c --help 2>/dev/null || pgbkp_raw help $c 2>/dev/null
    done | sed 's/--\[no-\]/--/g' | grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u
}

test_man_and_tables_agree() {
    local man=$TOP/man/pgbkp.1 c missing=() extra=() opt key
    man_text "$man" | sed 's/--\[no-\]/--/g' >"$ROOT/work/man.txt"
    # every command has its SYNOPSIS line and its section
    for c in $(pgbkp_raw help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}'); do
        sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' "$ROOT/work/man.txt" | grep -Eq "(^| )$c( |$)" || missing+=("synopsis:$c")
        grep -Eq "^   $c( |$)" "$ROOT/work/man.txt" || missing+=("section:$c")
    done
    # every option of the tables is in the man page ...
    table_options >"$ROOT/work/table-options"
    while IFS= read -r opt; do
        grep -Eq -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|$)" "$ROOT/work/man.txt" || missing+=("$opt")
    done <"$ROOT/work/table-options"
    # ... and every option the man page names is in the tables (--no-X for
    # a boolean X), except pgBackRest's (named to say what pgbkp spells
    # instead), initdb's --waldir and the options of pg_checksums and
    # pg_amcheck that drill runs
    grep -oE -- '(^|[^a-z0-9-])--[a-z][a-z0-9-]*[a-z0-9]' "$ROOT/work/man.txt" | sed 's/^[^-]*//' | sort -u >"$ROOT/work/man-options"
    while IFS= read -r opt; do
        case $opt in --stanza|--target|--pg1-path|--process-max|--waldir) continue ;; esac
        case $opt in --all|--check|--heapallindexed|--install-missing|--parent-check) continue ;; esac
        grep -qx -- "$opt" "$ROOT/work/table-options" && continue
        [[ $opt == --no-* ]] && grep -qx -- "--${opt#--no-}" "$ROOT/work/table-options" && continue
        extra+=("$opt")
    done <"$ROOT/work/man-options"
    # every YAML key of the tables, and the two lists, are in the man page
    for key in $(pgbkp_raw help options | grep -oE 'yaml [a-z_]+' | awk '{print $2}' | sort -u) repositories schedule; do
        grep -Eq "(^|[^a-z_])$key([^a-z_]|$)" "$ROOT/work/man.txt" || missing+=("yaml:$key")
    done
    [ ${#missing[@]} -eq 0 ] || fail "in the tables but not in man/pgbkp.1: ${missing[*]}"
    [ ${#extra[@]} -eq 0 ] || fail "in man/pgbkp.1 but not in the tables: ${extra[*]}"
}

test_grafana_dashboard_for_pigsty() {
    # the dashboard loads the way Pigsty loads its own: Pigsty's datasource
    # uid, its cls/ins target labels, a body for POST /api/dashboards/db
    local dash=$TOP/scripts/grafana-dashboard.json m missing=()
    jq -e . "$dash" >/dev/null || fail "the dashboard is not valid JSON"
    assert_eq "ds-prometheus" "$(jq -r '[.. | objects | select(has("datasource")) | .datasource | objects | select(.type == "prometheus") | .uid] | unique | join(" ")' "$dash")" \
        "Prometheus datasource uids"
    assert_eq "cls ins" "$(jq -r '[.templating.list[].name] | join(" ")' "$dash")" "dashboard variables"
    ! grep -Eq 'cluster=~|node=~|DS_PROMETHEUS' "$dash" || fail "the dashboard still selects pgbkp's own labels or an import input"
    jq '{dashboard: (.id = null), overwrite: true, folderUid: "pgsql"}' "$dash" | jq -e '.dashboard.uid and .dashboard.panels and .overwrite' >/dev/null ||
        fail "no loader request body can be made of the dashboard"
    # every pgbkp_ family it queries is one the endpoint serves
    for m in $(grep -oE 'pgbkp_[a-z_]+' "$dash" | sort -u); do
        grep -rqF "\"$m" "$TOP/src/sched/" || missing+=("$m")
    done
    [ ${#missing[@]} -eq 0 ] || fail "the dashboard queries families the endpoint does not serve: ${missing[*]}"
}
