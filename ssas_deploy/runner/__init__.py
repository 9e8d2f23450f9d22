"""Drive the Ansible roles: inventory export, ansible-playbook, live progress, recap."""
