"""Fixtures for the custom resources: their modules on sys.path, AWS test credentials, the
trustme CA, the HTTPS response receiver, moto's server behind a fault-injecting hop, and the
virtual clock every handler in these tests runs on.

The servers are session-scoped, not package-scoped: under pytest-xdist a worker may move from
this folder to another and back, and package fixtures would be made again each time.
"""

import pytest
import trustme

from .functions import FUNCTIONS, load_app
from .local_endpoints import (
    AWS_TEST_ENVIRONMENT,
    UNSET_FOR_THE_FUNCTION,
    LambdaApiFaults,
    ResponseReceiver,
    write_ca_bundle,
)
from .virtual_clock import VirtualClock


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def function_variables(tls_ca, tmp_path_factory) -> dict[str, str]:
    """What Lambda sets (region, credentials), plus SSL_CERT_FILE so the loopback CA is trusted."""
    ca_file = write_ca_bundle(tls_ca, tmp_path_factory.mktemp("tls"))
    return {**AWS_TEST_ENVIRONMENT, "SSL_CERT_FILE": str(ca_file)}


@pytest.fixture(scope="package", autouse=True)
def function_environment(function_variables):
    """The function's environment for this folder's tests (and nothing it does not set)."""
    with pytest.MonkeyPatch.context() as patch:
        for variable in UNSET_FOR_THE_FUNCTION:
            patch.delenv(variable, raising=False)
        for variable, value in function_variables.items():
            patch.setenv(variable, value)
        yield


@pytest.fixture(scope="package")
def app(function_environment):
    """The role lookup's handler module, imported as Lambda does once the environment is set."""
    return load_app("lambda_role_lookup")


@pytest.fixture(scope="session")
def receiver_server(tls_ca):
    with ResponseReceiver(tls_ca) as server:
        yield server


@pytest.fixture
def receiver(receiver_server):
    receiver_server.reset()
    return receiver_server


@pytest.fixture(autouse=True)
def clock(function_environment, receiver_server, monkeypatch) -> VirtualClock:
    """A fresh VirtualClock per test, for both functions' helpers and the receiver's timestamps:
    no test here depends on how fast the machine is (LambdaContext(seconds, clock) uses it too)."""
    clock = VirtualClock()
    for function in FUNCTIONS:
        monkeypatch.setattr(load_app(function).helper, "clock", clock)
    monkeypatch.setattr(receiver_server, "clock", clock)
    return clock


@pytest.fixture(scope="session")
def moto_endpoint(moto_server_url) -> str:
    """moto's server in its own process (the session's): Lambda, IAM and Secrets Manager over
    HTTP on loopback."""
    return moto_server_url


@pytest.fixture(scope="session")
def lambda_api_hop(moto_server_url):
    with LambdaApiFaults(moto_server_url) as hop:
        yield hop


@pytest.fixture
def lambda_api(lambda_api_hop, monkeypatch):
    """Point the function's Lambda client at the fault hop (in front of moto) for one test."""
    lambda_api_hop.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", lambda_api_hop.url)
    return lambda_api_hop
