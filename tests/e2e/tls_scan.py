"""sslyze's check of a live HTTPS endpoint against Mozilla's intermediate TLS configuration."""

from sslyze import (
    Scanner,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)
from sslyze.mozilla_tls_profile.tls_config_checker import (
    SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
    MozillaTlsConfiguration,
    ServerNotCompliantWithTlsConfiguration,
    TlsConfigurationEnum,
    check_server_against_tls_configuration,
)

# A sandbox's certificate is self-signed: no public CA vouches for it, which sslyze reports
# as this one finding. Everything else must comply.
SELF_SIGNED_FINDING = "certificate_path_validation"


def mozilla_intermediate_findings(address: str, port: int = 443) -> dict[str, str]:
    """Findings of sslyze's Mozilla intermediate check ({} when compliant).

    Raises AssertionError when the scan itself could not complete (connection refused, ...).
    """
    scanner = Scanner()
    scanner.queue_scans([ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=address, port=port, ip_address=address),
        scan_commands=SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER)])
    results = list(scanner.get_results())
    assert len(results) == 1
    result = results[0]
    assert result.scan_status == ServerScanStatusEnum.COMPLETED, (
        f"sslyze could not scan {address}:{port}: {result.connectivity_error_trace}")
    try:
        check_server_against_tls_configuration(
            result, MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE))
    except ServerNotCompliantWithTlsConfiguration as error:
        return dict(error.issues)
    return {}
