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
