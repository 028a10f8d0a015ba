import { APIRequestContext, expect } from "@playwright/test";

/** An event id no other test uses, so tests never share a line. */
export function uniqueEvent(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Joins through the JSON API; returns the session view. */
export async function apiJoin(request: APIRequestContext, eventId: string, userId: string) {
  const res = await request.post("/api/waiting-room/sessions", { data: { eventId, userId } });
  expect([200, 202]).toContain(res.status());
  return res.json();
}

export async function apiLeave(request: APIRequestContext, sessionId: string) {
  const res = await request.delete(`/api/waiting-room/sessions/${sessionId}`);
  expect(res.status()).toBe(200);
  return res.json();
}
