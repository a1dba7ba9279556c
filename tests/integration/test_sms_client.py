"""The SMS client sends once: it never repeats a send by itself, whatever the answer.

Found by the soak test: with `max_attempts: 1` (which botocore reads as one retry), a send
whose answer timed out was sent again 10 s later, and the recipient got the message twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from cloison.adapters import aws

NUMBER = "+33612345678"  # phonenumbers' French example mobile


class Carrier(ThreadingHTTPServer):
    """Counts the SendTextMessage requests it gets, and answers each as told."""

    daemon_threads = True

    def __init__(self, answer: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.requests = 0


class _Handler(BaseHTTPRequestHandler):
    server: Carrier

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests += 1
        if self.server.answer == "too late":
            time.sleep(2)  # past the test client's read timeout
        status, body = {
            "too late": (HTTPStatus.OK, b'{"MessageId": "m-1"}'),
            "internal error": (
                HTTPStatus.INTERNAL_SERVER_ERROR,
                b'{"__type": "InternalServerException", "message": "try again"}',
            ),
            "throttled": (
                HTTPStatus.BAD_REQUEST,
                b'{"__type": "ThrottlingException", "message": "slow down"}',
            ),
        }[self.server.answer]
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=["too late", "internal error", "throttled"])
def carrier(request: pytest.FixtureRequest) -> Iterator[Carrier]:
    server = Carrier(str(request.param))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_sms_client_sends_once_whatever_the_answer(carrier: Carrier) -> None:
    # Given the SMS client's configuration, with a read timeout short enough for a test
    config = aws.SEND_ONCE.merge(Config(read_timeout=0.5))
    client = boto3.client(
        "pinpoint-sms-voice-v2",
        region_name="eu-west-3",
        endpoint_url=f"http://127.0.0.1:{carrier.server_address[1]}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )
    # When a send's answer times out, is a server error or a throttling
    with pytest.raises((ReadTimeoutError, ClientError)):
        client.send_text_message(
            DestinationPhoneNumber=NUMBER, OriginationIdentity="36111", MessageBody="Bonjour"
        )
    time.sleep(0.2)
    # Then the carrier got the send once: whether to try again is the send path's decision
    assert carrier.requests == 1
