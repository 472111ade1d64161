from __future__ import annotations

import json
import logging

from omnitill.api.logging import JsonFormatter, request_id_var


def test_log_lines_are_json_objects_carrying_the_request_id():
    record = logging.LogRecord("omnitill.access", logging.INFO, __file__, 1, "request", (), None)
    record.fields = {"status": 201, "path": "/api/v1/sales"}
    token = request_id_var.set("req-123")
    try:
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    entry = json.loads(line)
    assert entry["request_id"] == "req-123"
    assert entry["status"] == 201
    assert entry["level"] == "info"
    assert entry["msg"] == "request"
    assert entry["ts"].endswith("+00:00")
