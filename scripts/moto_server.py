"""The moto server, with DynamoDB requests applied one at a time.

Real DynamoDB applies every write, and every TransactWriteItems, atomically.
moto's threaded server does not: two concurrent transactions can interleave, and
a cancelled one rolls back by restoring a snapshot of the table, which can erase
a neighbour's committed write. Our money rules (no over-refund, one transaction
per Tiki id) rest on that atomicity, so DynamoDB calls are serialised here.
Other services stay concurrent: an SQS long poll must not stall the table.

Usage: moto_server.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

moto_app = DomainDispatcherApplication(create_backend_app)
dynamodb_lock = threading.Lock()


def app(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with dynamodb_lock:
            # Produce the whole response inside the lock.
            return list(moto_app(environ, start_response))
    return moto_app(environ, start_response)


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    run_simple(host, port, app, threaded=True)
