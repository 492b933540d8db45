"""Fixtures shared across test folders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.local_servers import moto_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the session, reached by the AWS CLI and boto3 via AWS_ENDPOINT_URL.

    The host is "localhost": the CLI builds CloudFormation TemplateURLs from the S3 endpoint, and
    moto reads a bucket out of a path-style URL only for localhost (or amazonaws.com) hosts.
    """
    with moto_server() as endpoint:
        yield endpoint.replace("127.0.0.1", "localhost")
