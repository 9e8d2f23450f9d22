#!/bin/sh
# Vault password script for one `ssas-deploy apply` run (ansible-playbook --vault-id
# ssas-run@THIS_FILE). The runner encrypts the run's secrets vars file with a one-time random
# password and passes that password only in ansible-playbook's environment; this prints it.
if [ -z "${SSAS_RUN_VAULT_PASSWORD:-}" ]; then
    echo "SSAS_RUN_VAULT_PASSWORD is not set: this script only serves ssas-deploy's own runs" >&2
    exit 1
fi
printf '%s\n' "$SSAS_RUN_VAULT_PASSWORD"
