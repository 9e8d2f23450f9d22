"""A certificate the school supplies (profile `site.tls: provided`).

`ssas-deploy secrets import-tls --cert CHAIN.pem --key KEY.pem -i hosts.yaml` checks the pair
(`pem` reads the files, `chain` judges them) and keeps the key in the inventory's vault and the
chain beside the inventory (`provided`); `plan` and `apply` check them again and `apply` gives
them to every load balancer (`provided.tls_host_vars`, the vault's `ssas_tls_key`).
"""
