# shellcheck shell=bash
# Fault class "flip_cipher": the byte flips of f_flip.sh in an encrypted
# repository (aes-256-cbc, passphrase in a file named by the configuration),
# where encryption.info is one more object to damage.

# shellcheck source=f_flip.sh
. "$(dirname "${BASH_SOURCE[0]}")/f_flip.sh"

class_main() { flip_main "$1" cipher; }
