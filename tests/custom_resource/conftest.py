"""Fixtures for the custom resources: their modules on sys.path, AWS test credentials, the
trustme CA, the HTTPS response receiver, moto's server behind a fault-injecting hop, and the
virtual clock every handler in these tests runs on."""

import pytest
import trustme

from tests.helpers.local_servers import moto_server

from .functions import FUNCTIONS, load_app
from .local_endpoints import (
    AWS_TEST_ENVIRONMENT,
    LambdaApiFaults,
    ResponseReceiver,
    write_ca_bundle,
)
from .virtual_clock import VirtualClock


@pytest.fixture(scope="package")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="package", autouse=True)
def function_environment(tls_ca, tmp_path_factory):
    """What Lambda sets (region, credentials), plus SSL_CERT_FILE so the loopback CA is trusted."""
    ca_file = write_ca_bundle(tls_ca, tmp_path_factory.mktemp("tls"))
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "LOG_LEVEL"):
            patch.delenv(variable, raising=False)
        for variable, value in AWS_TEST_ENVIRONMENT.items():
            patch.setenv(variable, value)
        patch.setenv("SSL_CERT_FILE", str(ca_file))
        yield


@pytest.fixture(scope="package")
def app(function_environment):
    """The role lookup's handler module, imported as Lambda does once the environment is set."""
    return load_app("lambda_role_lookup")


@pytest.fixture(scope="package")
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


@pytest.fixture(scope="package")
def moto_endpoint(function_environment):
    """moto's server in its own process: Lambda and IAM over HTTP on loopback."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="package")
def lambda_api_hop(moto_endpoint):
    with LambdaApiFaults(moto_endpoint) as hop:
        yield hop


@pytest.fixture
def lambda_api(lambda_api_hop, monkeypatch):
    """Point the function's Lambda client at the fault hop (in front of moto) for one test."""
    lambda_api_hop.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", lambda_api_hop.url)
    return lambda_api_hop
