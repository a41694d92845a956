"""moto_server with one change: DynamoDB requests are applied one at a time.

Real DynamoDB applies each request (an UpdateItem with ADD, a conditional write, a transaction) atomically; moto's
threaded server does not, and loses concurrent counter updates. Serialising DynamoDB requests restores the per-request
atomicity the adapters rely on, while SQS long polls and other services keep their own threads.
Usage: python scripts/moto_server.py -H 127.0.0.1 -p PORT
"""

import argparse
import signal
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.threaded_moto_server import (  # noqa: F401  (imports moto's server setup)
    ThreadedMotoServer,
)
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler

_dynamodb_lock = threading.Lock()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()

    moto_app = DomainDispatcherApplication(create_backend_app)

    def app(environ, start_response):
        if "/dynamodb/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            with _dynamodb_lock:
                # Consume the whole response inside the lock: the request is applied while iterating.
                return list(moto_app(environ, start_response))
        return moto_app(environ, start_response)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
