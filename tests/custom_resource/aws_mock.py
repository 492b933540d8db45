"""moto's in-process mock (mock_aws) with one warm boto3 session for the whole worker.

mock_aws resets boto3's default session on every start, so each test's first client (the
handler's included) re-read botocore's endpoint and service JSON: about a quarter of a second of
CPU per test. Here every mock runs on one session, made once after moto is imported (moto's
request hook is added to sessions made from then on), as one warm Lambda container keeps its
session across invocations. moto's state is still reset by every mock_aws start.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from unittest import mock

import boto3
from moto import mock_aws

_SESSION: list[boto3.Session] = []


def warm_session() -> boto3.Session:
    if not _SESSION:
        _SESSION.append(boto3.Session())
    return _SESSION[0]


@contextlib.contextmanager
def moto_mock() -> Iterator[None]:
    """mock_aws (moto's state reset), boto3.client() going to the one warm session."""
    with mock_aws(), mock.patch("boto3.DEFAULT_SESSION", warm_session()):
        yield
