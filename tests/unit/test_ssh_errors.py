"""A host that answers SSH's port but does not speak SSH: one clear error, no traceback.

Run in a child process: pytest's own logging handler would hide what a user's terminal
shows (Python's last-resort handler prints a library's unhandled log records on stderr).
"""

import subprocess
import sys

CHILD = r"""
import socket, threading
from ssas_deploy.profiles.models import HostSpec, Role
from ssas_deploy.ssh import SshError, connect
from ssas_deploy.topology import Host, SshTarget

server = socket.create_server(("127.0.0.1", 0))

def serve():
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        conn.sendall(b"not ssh\r\n" * 3)
        conn.close()

threading.Thread(target=serve, daemon=True).start()
hardware = HostSpec(count=1, cpu_cores=2, ram_gib=4, disk_gib=20, storage="ssd")
ssh = SshTarget(port=server.getsockname()[1], known_hosts=KNOWN_HOSTS)
host = Host("web-1", "127.0.0.1", Role.web, 0, frozenset({Role.web}), hardware, ssh)
try:
    connect(host, 3)
except SshError as error:
    print(f"{error.stage}: {error}")
"""


def test_a_host_that_does_not_speak_ssh_gives_one_message_and_no_traceback(tmp_path):
    script = CHILD.replace("KNOWN_HOSTS", repr(str(tmp_path / "hosts.known_hosts")))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.stdout.startswith("ssh: SSH handshake with web-1 at 127.0.0.1:"), result
    assert "Traceback" not in result.stderr, result.stderr
