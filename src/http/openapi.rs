//! The OpenAPI 3.1 document of every JSON route, served at `/api/openapi.json`.
//!
//! Written as data next to the routes it describes; `tests/openapi.rs` checks that every
//! documented operation exists and every JSON route is documented.

use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn session_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Session" } } }
    })
}

fn event_response() -> Value {
    json!({
        "description": "The event's settings and counts",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Event" } } }
    })
}

fn id_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description,
            "schema": { "type": "string" } })
}

/// The document.
pub fn document() -> Value {
    let session_id = id_param("id", "The session id (a UUID)");
    let event_id = id_param("id", "The event id: 1-64 characters of [A-Za-z0-9._:-]");
    let admin = json!([{ "bearer": [] }]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Vestibule",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A virtual waiting room for high-demand sales. Errors are always \
                {\"error\": {\"code\", \"message\"}}; 503 carries Retry-After."
        },
        "paths": {
            "/api/waiting-room/sessions": {
                "post": {
                    "summary": "Join an event's line",
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/JoinRequest" } } } },
                    "responses": {
                        "202": session_response("A new place in line"),
                        "200": session_response("The user's existing live session for the event (the request's sessionId proved it)"),
                        "400": error_response("Invalid JSON or field"),
                        "404": error_response("Unknown event (WAITING_ROOM_EVENTS=registered)"),
                        "409": error_response("The user already has a place and the request did not prove it is theirs"),
                        "413": error_response("Body over 16 KiB"),
                        "415": error_response("Not application/json"),
                        "429": error_response("Too many joins from this address"),
                        "503": error_response("Redis unavailable; retry after Retry-After")
                    }
                }
            },
            "/api/waiting-room/sessions/{id}": {
                "get": {
                    "summary": "Where a session stands (polling is its heartbeat)",
                    "parameters": [session_id],
                    "responses": {
                        "200": session_response("The session"),
                        "400": error_response("Malformed id"),
                        "404": error_response("Unknown session"),
                        "503": error_response("Redis unavailable")
                    }
                },
                "delete": {
                    "summary": "Leave the line or give the slot back (idempotent)",
                    "parameters": [session_id],
                    "responses": {
                        "200": session_response("The session, now LEFT"),
                        "400": error_response("Malformed id"),
                        "404": error_response("Unknown session"),
                        "503": error_response("Redis unavailable")
                    }
                }
            },
            "/api/waiting-room/tokens/verify": {
                "post": {
                    "summary": "Check that a pass opens an event's door now",
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "type": "object", "required": ["token", "eventId"],
                                    "properties": { "token": { "type": "string" },
                                                    "eventId": { "type": "string" } } } } } },
                    "responses": {
                        "200": { "description": "{valid: true, claims} or {valid: false, reason}",
                                 "content": { "application/json": { "schema": {
                                     "$ref": "#/components/schemas/Verification" } } } },
                        "400": error_response("No token or eventId field"),
                        "413": error_response("Body over 16 KiB"),
                        "415": error_response("Not application/json"),
                        "503": error_response("Redis unavailable (keys or revocations not loaded yet)")
                    }
                }
            },
            "/api/waiting-room/gate/{id}": {
                "get": {
                    "summary": "The door: does this request carry a pass for the event?",
                    "description": "For nginx auth_request, Traefik ForwardAuth and Caddy forward_auth.                         The pass comes from the vestibule_pass cookie or Authorization: Bearer.                         Answered from memory; a pass whose session ended stops opening within a second.",
                    "parameters": [event_id.clone()],
                    "security": [{ "pass": [] }, { "passCookie": [] }],
                    "responses": {
                        "204": { "description": "The pass opens this event's door" },
                        "400": error_response("Bad event id"),
                        "401": error_response("No pass, or a pass that is invalid, expired, revoked or for another event"),
                        "503": error_response("Redis unavailable (keys or revocations not loaded yet)")
                    }
                }
            },
            "/api/waiting-room/events/{id}/draw": {
                "get": {
                    "summary": "A draw of the event, once made: seed, algorithm and digest of the order",
                    "description": "The first draw (the opening's) unless round says otherwise. Anyone can                         recompute the order from the seed (README, A fair start).",
                    "parameters": [event_id.clone(), { "name": "round", "in": "query", "required": false,
                        "schema": { "type": "integer", "minimum": 1, "default": 1 } }],
                    "responses": {
                        "200": { "description": "The draw", "content": { "application/json": {
                            "schema": { "$ref": "#/components/schemas/Draw" } } } },
                        "400": error_response("Bad event id or round"),
                        "404": error_response("No such draw yet (not_drawn)"),
                        "503": error_response("Redis unavailable")
                    }
                }
            },
            "/.well-known/jwks.json": {
                "get": {
                    "summary": "The public keys of passes (EdDSA, Ed25519), current and retired",
                    "responses": {
                        "200": { "description": "A JWK set", "content": { "application/json": {
                            "schema": { "$ref": "#/components/schemas/Jwks" } } } },
                        "503": error_response("Redis unavailable (keys not loaded yet)")
                    }
                }
            },
            "/api/admin/events": {
                "get": {
                    "summary": "A page of events in id order, with settings and counts",
                    "security": admin,
                    "parameters": [
                        { "name": "limit", "in": "query", "required": false,
                          "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 } },
                        { "name": "after", "in": "query", "required": false,
                          "description": "The `next` of the previous page",
                          "schema": { "type": "string" } }
                    ],
                    "responses": {
                        "200": { "description": "The events", "content": { "application/json": {
                            "schema": { "type": "object", "properties": {
                                "events": { "type": "array", "items": { "$ref": "#/components/schemas/Event" } },
                                "next": { "type": ["string", "null"] } } } } } },
                        "400": error_response("Bad limit or after"),
                        "401": error_response("Missing or wrong bearer token"),
                        "503": error_response("Redis unavailable")
                    }
                }
            },
            "/api/admin/events/{id}": {
                "get": {
                    "summary": "One event's settings and counts",
                    "security": admin,
                    "parameters": [event_id],
                    "responses": { "200": event_response(), "400": error_response("Bad event id"),
                                   "401": error_response("Missing or wrong bearer token"),
                                   "503": error_response("Redis unavailable") }
                },
                "put": {
                    "summary": "Replace an event's settings",
                    "security": admin,
                    "parameters": [event_id],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "$ref": "#/components/schemas/EventSettings" } } } },
                    "responses": { "200": event_response(), "400": error_response("Invalid settings or event id"),
                                   "401": error_response("Missing or wrong bearer token"),
                                   "413": error_response("Body over 16 KiB"),
                                   "415": error_response("Not application/json"),
                                   "503": error_response("Redis unavailable") }
                }
            },
            "/api/admin/events/{id}/pause": {
                "post": {
                    "summary": "Stop admissions (joins and positions go on)",
                    "security": admin,
                    "parameters": [event_id],
                    "responses": { "200": event_response(),
                                   "400": error_response("Bad event id"),
                                   "401": error_response("Missing or wrong bearer token"),
                                   "503": error_response("Redis unavailable") }
                }
            },
            "/api/admin/events/{id}/resume": {
                "post": {
                    "summary": "Resume admissions",
                    "security": admin,
                    "parameters": [event_id],
                    "responses": { "200": event_response(),
                                   "400": error_response("Bad event id"),
                                   "401": error_response("Missing or wrong bearer token"),
                                   "503": error_response("Redis unavailable") }
                }
            },
            "/api/admin/events/{id}/history": {
                "get": {
                    "summary": "The event's figures now and samples of its line over the last hour",
                    "security": admin,
                    "parameters": [event_id, { "name": "minutes", "in": "query", "required": false,
                        "schema": { "type": "integer", "minimum": 1, "maximum": 60, "default": 60 } }],
                    "responses": { "200": { "description": "Figures and samples",
                                            "content": { "application/json": {
                                                "schema": { "$ref": "#/components/schemas/EventHistory" } } } },
                                   "400": error_response("Bad event id or minutes"),
                                   "401": error_response("Missing or wrong bearer token"),
                                   "503": error_response("Redis unavailable") }
                }
            },
            "/api/admin/events/{id}/message": {
                "put": {
                    "summary": "Post the message the people waiting see (replaces any earlier one)",
                    "security": admin,
                    "parameters": [event_id],
                    "requestBody": { "required": true, "content": { "application/json": {
                        "schema": { "type": "object", "required": ["text"], "additionalProperties": false,
                            "properties": { "text": { "type": "string", "minLength": 1, "maxLength": 280,
                                "description": "One line of text; trimmed" } } } } } },
                    "responses": { "200": event_response(),
                                   "400": error_response("Bad event id, or a message that is empty, too long or not one line"),
                                   "401": error_response("Missing or wrong bearer token"),
                                   "413": error_response("Body too large"),
                                   "415": error_response("Not application/json"),
                                   "503": error_response("Redis unavailable") }
                },
                "delete": {
                    "summary": "Take the message down",
                    "security": admin,
                    "parameters": [event_id],
                    "responses": { "200": event_response(),
                                   "400": error_response("Bad event id"),
                                   "401": error_response("Missing or wrong bearer token"),
                                   "503": error_response("Redis unavailable") }
                }
            },
            "/api/admin/sessions/{id}": {
                "delete": {
                    "summary": "Revoke a session (as if its owner left)",
                    "security": admin,
                    "parameters": [session_id],
                    "responses": { "200": session_response("The session, now LEFT"),
                                   "400": error_response("Malformed id"),
                                   "401": error_response("Missing or wrong bearer token"),
                                   "404": error_response("Unknown session"),
                                   "503": error_response("Redis unavailable") }
                }
            },
            "/healthz": { "get": { "summary": "The process is up",
                "responses": { "200": { "description": "{status: ok}" } } } },
            "/readyz": { "get": { "summary": "Redis answers and the granter ran recently",
                "responses": { "200": { "description": "Ready" },
                               "503": { "description": "Not ready" } } } },
            "/metrics": { "get": { "summary": "Prometheus metrics",
                "security": [{ "metrics": [] }],
                "responses": { "200": { "description": "Prometheus text format" },
                               "401": error_response("WAITING_ROOM_METRICS_TOKEN is set and the request lacks it") } } },
            "/api/openapi.json": { "get": { "summary": "This document",
                "responses": { "200": { "description": "OpenAPI 3.1" } } } }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer",
                "description": "WAITING_ROOM_ADMIN_TOKEN; admin routes are 404 when it is unset" },
                "pass": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A pass (accessToken of an ACTIVE session)" },
                "passCookie": { "type": "apiKey", "in": "cookie", "name": "vestibule_pass" },
                "metrics": { "type": "http", "scheme": "bearer",
                    "description": "WAITING_ROOM_METRICS_TOKEN, when set" } },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": {
                    "type": "object", "required": ["code", "message"], "properties": {
                        "code": { "type": "string" }, "message": { "type": "string" } } } } },
                "JoinRequest": { "type": "object", "required": ["eventId", "userId"], "properties": {
                    "eventId": { "type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$" },
                    "userId": { "type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$",
                                "description": "Not starting with visitor: (the page's visitors)" },
                    "sessionId": { "type": "string", "format": "uuid",
                                   "description": "Proof of an existing place: a repeat join without it is 409" } } },
                "Session": { "type": "object",
                    "required": ["sessionId", "eventId", "userId", "status", "waitTimeKnown", "refreshAfterMs"],
                    "properties": {
                        "sessionId": { "type": "string", "format": "uuid" },
                        "eventId": { "type": "string" },
                        "userId": { "type": "string" },
                        "status": { "type": "string",
                                    "enum": ["WAITING", "ACTIVE", "EXPIRED", "LEFT", "ABANDONED"] },
                        "position": { "type": "integer", "minimum": 1,
                                      "description": "1 = next; WAITING only, and not before the draw of a drawn event" },
                        "preQueue": { "type": "boolean", "description": "Waiting for the opening; absent when false" },
                        "opensAt": { "type": "string", "format": "date-time", "description": "The opening; pre-queue only" },
                        "opensInSeconds": { "type": "integer", "minimum": 0, "description": "Time to the opening; pre-queue only" },
                        "estimatedWaitSeconds": { "type": "integer", "minimum": 0 },
                        "waitTimeKnown": { "type": "boolean" },
                        "refreshAfterMs": { "type": "integer", "minimum": 0 },
                        "activeUntilMs": { "type": "integer", "description": "Unix ms; ACTIVE only" },
                        "accessToken": { "type": "string", "description": "The pass: an EdDSA JWT (aud = eventId, sub = jti = sessionId); ACTIVE only" },
                        "targetUrl": { "type": "string", "description": "The event's shop; ACTIVE only, when set" },
                        "message": { "type": "string", "description": "The operator's message to the people waiting; WAITING only, when posted" } } },
                "Verification": { "type": "object", "required": ["valid"], "properties": {
                    "valid": { "type": "boolean" },
                    "reason": { "type": "string" },
                    "claims": { "type": "object", "properties": {
                        "aud": { "type": "string" }, "sub": { "type": "string" }, "jti": { "type": "string" },
                        "iat": { "type": "integer" }, "exp": { "type": "integer" } } } } },
                "Jwks": { "type": "object", "required": ["keys"], "properties": { "keys": {
                    "type": "array", "items": { "type": "object", "properties": {
                        "kty": { "const": "OKP" }, "crv": { "const": "Ed25519" }, "x": { "type": "string" },
                        "kid": { "type": "string" }, "alg": { "const": "EdDSA" }, "use": { "const": "sig" } } } } } },
                "EventSettings": { "type": "object", "additionalProperties": false, "properties": {
                    "capacity": { "type": ["integer", "null"], "minimum": 0, "maximum": 1000000 },
                    "ratePerMinute": { "type": ["integer", "null"], "minimum": 1, "maximum": 1000000 },
                    "paused": { "type": "boolean" },
                    "targetUrl": { "type": ["string", "null"], "format": "uri",
                                   "description": "The shop: an absolute http(s) URL" },
                    "opensAt": { "type": ["string", "null"], "format": "date-time",
                                 "description": "The opening (RFC 3339): joins before it wait in the pre-queue" },
                    "queueing": { "type": ["string", "null"], "enum": ["fifo", "draw-at-open", "random", null],
                                  "description": "Default: draw-at-open with an opening, else fifo" } } },
                "Draw": { "type": "object", "properties": {
                    "eventId": { "type": "string" },
                    "round": { "type": "integer", "minimum": 1 },
                    "seed": { "type": "string", "description": "64 hex digits, drawn at the draw" },
                    "algorithm": { "const": "vestibule-feistel-sha1-v1" },
                    "drawnAt": { "type": "string", "format": "date-time" },
                    "firstJoin": { "type": "integer" }, "lastJoin": { "type": "integer" },
                    "count": { "type": "integer" },
                    "orderDigest": { "type": "string",
                                     "description": "sha256: of the join numbers in the order drawn, each in decimal followed by a newline" } } },
                "Event": { "type": "object", "properties": {
                    "eventId": { "type": "string" },
                    "targetUrl": { "type": ["string", "null"] },
                    "capacity": { "type": ["integer", "null"] },
                    "ratePerMinute": { "type": ["integer", "null"] },
                    "paused": { "type": "boolean" },
                    "opensAt": { "type": ["string", "null"], "format": "date-time" },
                    "queueing": { "type": "string", "enum": ["fifo", "draw-at-open", "random"] },
                    "joined": { "type": "integer" },
                    "waiting": { "type": "integer" },
                    "active": { "type": "integer" },
                    "capacityInForce": { "type": "integer", "description": "capacity, or the room's default" },
                    "admitted": { "type": "integer", "description": "Everyone admitted so far" },
                    "admittedPerMinute": { "type": "number",
                        "description": "Admissions in about the last minute (decayed count; visitors' estimates use it)" },
                    "lastWaitSeconds": { "type": ["integer", "null"],
                        "description": "Estimated wait of the last person in line; null when unknown or nobody waits" },
                    "message": { "type": ["string", "null"], "description": "The message the people waiting see" } } },
                "Sample": { "type": "object", "properties": {
                    "atMs": { "type": "integer", "description": "Unix ms" },
                    "waiting": { "type": "integer" }, "active": { "type": "integer" },
                    "capacity": { "type": "integer" },
                    "admitted": { "type": "integer", "description": "Everyone admitted up to then" } } },
                "EventHistory": { "type": "object", "properties": {
                    "figures": { "$ref": "#/components/schemas/Event" },
                    "sampleSeconds": { "type": "integer", "description": "Seconds between samples while the event has work" },
                    "nowMs": { "type": "integer" },
                    "samples": { "type": "array", "items": { "$ref": "#/components/schemas/Sample" } } } }
            }
        }
    })
}
