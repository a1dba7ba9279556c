"""The carrier simulator as it runs: `CarrierSimulator`, made of this package's parts, its start
and stop, the dispatch of each API call to its operation, and the HTTP server that answers."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3

from cloison_local.carrier.control import CONTROL_PREFIX, _Control
from cloison_local.carrier.describe import _Descriptions
from cloison_local.carrier.operations import _Operations
from cloison_local.carrier.protocol import (
    JSON_CONTENT_TYPE,
    TARGET_PREFIX,
    JsonObject,
    _ServiceError,
    _validation_error,
)

_LOG = logging.getLogger("cloison_local.carrier")

# moto's default account, so the ARNs made here line up with the stack's own.
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_DELIVERY_DELAY_SECONDS = 0.2
MAX_RECORDED_SENDS = 100_000
_SHUTDOWN_POLL_SECONDS = 0.05


class CarrierSimulator(_Control, _Operations, _Descriptions):
    """An HTTP server answering the SMS v2 API as AWS would, with programmable outcomes.

    Registrations (configuration sets, opt-out lists, two-way channels) come from the template;
    everything else is runtime state that `reset()` clears. Events go out on a background
    thread, `delivery_delay_seconds` apart, never inside the request that caused them.
    """

    def __init__(
        self,
        sns_endpoint_url: str,
        region: str,
        *,
        delivery_delay_seconds: float = DEFAULT_DELIVERY_DELAY_SECONDS,
        host: str = "127.0.0.1",
        port: int = 0,
        account_id: str = DEFAULT_ACCOUNT_ID,
        fail_rate: float = 0.0,
        throttle_rate: float = 0.0,
        seed: int = 0,
        max_recorded_sends: int = MAX_RECORDED_SENDS,
    ) -> None:
        super().__init__(
            region,
            delivery_delay_seconds=delivery_delay_seconds,
            account_id=account_id,
            fail_rate=fail_rate,
            throttle_rate=throttle_rate,
            seed=seed,
            max_recorded_sends=max_recorded_sends,
        )
        self._sns_endpoint_url = sns_endpoint_url
        self._host = host
        self._port = port

        self._operations: dict[str, Callable[[Mapping[str, Any]], JsonObject]] = {
            "SendTextMessage": self._send_text_message,
            "PutOptedOutNumber": self._put_opted_out_number,
            "DeleteOptedOutNumber": self._delete_opted_out_number,
            "DescribeOptedOutNumbers": self._describe_opted_out_numbers,
            "DescribeOptOutLists": self._describe_opt_out_lists,
            "DescribeConfigurationSets": self._describe_configuration_sets,
            "DescribePhoneNumbers": self._describe_phone_numbers,
            "DescribeSenderIds": self._describe_sender_ids,
            "DescribePools": self._describe_pools,
            "ListPoolOriginationIdentities": self._list_pool_origination_identities,
            "ListTagsForResource": self._list_tags_for_resource,
            "DescribeAccountAttributes": self._describe_account_attributes,
            "DescribeSpendLimits": self._describe_spend_limits,
            "DescribeVerifiedDestinationNumbers": self._describe_verified_destination_numbers,
        }
        self._server: _CarrierHttpServer | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind the port and start serving requests and publishing events."""
        if self._server is not None:
            raise RuntimeError("the carrier simulator is already running")
        self._sns = boto3.client(
            "sns", endpoint_url=self._sns_endpoint_url, region_name=self._region
        )
        self._stopping = False
        self._server = _CarrierHttpServer((self._host, self._port), self)
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever,
                # A short poll keeps stop() quick; the server sleeps in select() between polls.
                kwargs={"poll_interval": _SHUTDOWN_POLL_SECONDS},
                name="carrier-http",
                daemon=True,
            ),
            threading.Thread(target=self._publish_due_events, name="carrier-events", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        _LOG.info("carrier simulator listening on %s", self.endpoint_url)

    def stop(self) -> None:
        """Stop serving; events not yet published are dropped, as a stopped stack sends nothing."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._schedule_changed:
            self._stopping = True
            self._schedule.clear()
            self._schedule_changed.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads = []

    def __enter__(self) -> CarrierSimulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """The URL to give botocore, e.g. as AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2."""
        if self._server is None:
            raise RuntimeError("the carrier simulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- the wire protocol -----------------------------------------------------------------

    def _answer_api_call(self, target: str | None, raw_body: bytes) -> tuple[int, JsonObject]:
        target = target or ""
        operation = target.removeprefix(TARGET_PREFIX)
        handler = self._operations.get(operation) if target.startswith(TARGET_PREFIX) else None
        if handler is None:
            unknown = _validation_error(
                f"Unsupported operation {target!r}", reason="UNKNOWN_OPERATION"
            )
            return unknown.status, unknown.body()
        with self._lock:
            self._calls[operation] = self._calls.get(operation, 0) + 1
        try:
            payload = json.loads(raw_body or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError:
            unparsable = _validation_error(
                "The request body is not valid JSON", reason="CANNOT_PARSE"
            )
            return unparsable.status, unparsable.body()
        try:
            return HTTPStatus.OK, handler(payload)
        except _ServiceError as error:
            _LOG.info("%s answered %s", operation, error.code)
            return error.status, error.body()
        except Exception:
            _LOG.exception("%s failed inside the simulator", operation)
            failure = _ServiceError(
                "InternalServerException",
                "The carrier simulator failed",
                status=HTTPStatus.INTERNAL_SERVER_ERROR,
                RequestId=str(uuid.uuid4()),
            )
            return failure.status, failure.body()


class _CarrierHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: CarrierSimulator) -> None:
        self.simulator = simulator
        super().__init__(address, _CarrierRequestHandler)


class _CarrierRequestHandler(BaseHTTPRequestHandler):
    # botocore keeps connections alive; HTTP/1.1 with a Content-Length on every answer lets it.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each call would wait ~40 ms.
    disable_nagle_algorithm = True
    server: _CarrierHttpServer

    def do_POST(self) -> None:
        self._answer("POST")

    def do_GET(self) -> None:
        self._answer("GET")

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        simulator = self.server.simulator
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            # Without a usable length the body cannot be read, nor the connection kept.
            self.close_connection = True
            self._write(
                HTTPStatus.BAD_REQUEST,
                "application/json",
                {"error": "a Content-Length is required"},
            )
            return
        raw_body = self.rfile.read(int(length))
        if url.path.startswith(CONTROL_PREFIX):
            status, payload = simulator._answer_control_call(method, url.path, url.query, raw_body)
            content_type = "application/json"
        elif method == "POST" and url.path == "/":
            status, payload = simulator._answer_api_call(self.headers.get("X-Amz-Target"), raw_body)
            content_type = JSON_CONTENT_TYPE
        else:
            status, payload = HTTPStatus.NOT_FOUND, {"error": f"nothing at {method} {url.path}"}
            content_type = "application/json"
        self._write(status, content_type, payload)

    def _write(self, status: int, content_type: str, payload: JsonObject) -> None:
        encoded = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(encoded)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry no numbers or bodies; keep them out of stderr, in debug logs.
        _LOG.debug("carrier http: " + format, *args)
