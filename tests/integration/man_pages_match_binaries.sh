#!/usr/bin/env bash
# The man pages say what the binaries do (issue 16: docs that disagreed with them):
#   - every option `gatewayd --help` names is documented in gatewayd.8, and every option
#     gatewayd.8 documents is accepted by the binary (--help lists it);
#   - every command `gatewayctl --help` names is a command of gatewayctl.8, and back;
#   - every option `gatewayctl --help` names (its own and the commands', --all, --proto,
#     -w...) is documented in gatewayctl.8's OPTIONS or COMMANDS, and back;
#   - gatewayctl.8's EXIT STATUS lists exactly the codes gatewayctl's usage text gives;
#   - both binaries answer --version with the version CMakeLists.txt gives the project;
#   - `gatewayd --config-reference` prints docs/configuration.md, and `--config-reference --man`
#     the KEYS section of gateway.yaml.5, byte for byte (the binary an operator runs, as the unit
#     tests compare the library's text). No lab: this reads the binaries' texts.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
gatewayd=${GATEWAYD:-$repo/build/daemon/gatewayd}
gatewayctl=${GATEWAYCTL:-$repo/build/daemon/gatewayctl}
man=$repo/docs/man

fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -x $gatewayd && -x $gatewayctl ]] || fail "build gatewayd and gatewayctl first (or set GATEWAYD / GATEWAYCTL)"

# The "--option" and "-o" words of a text (troff writes them \-\-option, in \fB...\fR);
# a hyphen inside a word (re-read) starts no option.
options_of() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' | grep -oP -- '(?<![\w-])--?[a-z][a-z-]*' | sort -u; }

help_options=$("$gatewayd" --help | options_of)
page_options=$(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man/gatewayd.8" | options_of)
missing=$(comm -23 <(echo "$help_options") <(echo "$page_options"))
[[ -z $missing ]] || fail "gatewayd --help names options gatewayd.8 does not document: $missing"
extra=$(comm -13 <(echo "$help_options") <(echo "$page_options"))
[[ -z $extra ]] || fail "gatewayd.8 documents options gatewayd --help does not name: $extra"
echo "ok - gatewayd --help and gatewayd.8 name the same options: $(echo $help_options)"

# gatewayctl's commands: the first word of each usage line indented by two spaces.
help_commands=$("$gatewayctl" --help | sed -n 's/^  \([a-z][a-z0-9]*\)\b.*/\1/p' | sort -u)
# A command is the first word of the line after each .TP (its tag), as .B, .BI or \fB.
page_commands=$(sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$man/gatewayctl.8" | awk 'tag { print; tag = 0 } /^\.TP/ { tag = 1 }' |
    sed -n -e 's/^\.BI\{0,1\} "\{0,1\}\([a-z][a-z0-9]*\)\b.*/\1/p' -e 's/^\\fB\([a-z][a-z0-9]*\)\\fR.*/\1/p' | sort -u)
missing=$(comm -23 <(echo "$help_commands") <(echo "$page_commands"))
[[ -z $missing ]] || fail "gatewayctl --help names commands gatewayctl.8 does not document: $missing"
extra=$(comm -13 <(echo "$help_commands") <(echo "$page_commands"))
[[ -z $extra ]] || fail "gatewayctl.8 documents commands gatewayctl --help does not name: $extra"
echo "ok - gatewayctl --help and gatewayctl.8 name the same commands: $(echo $help_commands)"

help_options=$("$gatewayctl" --help | options_of)
page_options=$(sed -n '/^\.SH OPTIONS/,/^\.SH EXIT STATUS/p' "$man/gatewayctl.8" | options_of)
missing=$(comm -23 <(echo "$help_options") <(echo "$page_options"))
[[ -z $missing ]] || fail "gatewayctl --help names options gatewayctl.8 does not document: $missing"
extra=$(comm -13 <(echo "$help_options") <(echo "$page_options"))
[[ -z $extra ]] || fail "gatewayctl.8 documents options gatewayctl --help does not name: $extra"
echo "ok - gatewayctl --help and gatewayctl.8 name the same options: $(echo $help_options)"

help_codes=$("$gatewayctl" --help | sed -n 's/^exit status: //p' | grep -oE '\b[0-9]\b' | sort -u)
page_codes=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$man/gatewayctl.8" | sed -n 's/^\.B \([0-9]\)$/\1/p' | sort -u)
[[ -n $help_codes && $help_codes == "$page_codes" ]] ||
    fail "gatewayctl's exit codes: --help says $(echo $help_codes), gatewayctl.8 says $(echo $page_codes)"
echo "ok - gatewayctl --help and gatewayctl.8 give the same exit codes: $(echo $help_codes)"

version=$(sed -n 's/^project(gatewayd VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
[[ $("$gatewayd" --version) == "gatewayd $version" ]] || fail "gatewayd --version: $("$gatewayd" --version)"
[[ $("$gatewayctl" --version) == "gatewayctl $version" ]] || fail "gatewayctl --version: $("$gatewayctl" --version)"
echo "ok - both binaries report version $version"

# On a difference: tools/update-generated-docs.sh rewrites both from the binary.
diff -u "$repo/docs/configuration.md" <("$gatewayd" --config-reference) >&2 ||
    fail "gatewayd --config-reference differs from docs/configuration.md (run tools/update-generated-docs.sh)"
keys=$(sed -n '/^\.SH KEYS$/,/^\.SH /p' "$man/gateway.yaml.5" | sed '$d')
[[ -n $keys ]] || fail "gateway.yaml.5 has no KEYS section"
diff -u <(echo "$keys") <("$gatewayd" --config-reference --man) >&2 ||
    fail "gatewayd --config-reference --man differs from the KEYS section of gateway.yaml.5"
echo "ok - gatewayd --config-reference is docs/configuration.md and --man is gateway.yaml.5's KEYS" \
    "($(grep -c '^\.TP$' <<<"$keys") keys)"
