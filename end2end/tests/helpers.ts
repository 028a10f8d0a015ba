import { APIRequestContext, Page, TestInfo, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

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

/** The project with JavaScript on (the same server-rendered pages, hydrated). */
export const hydrated = (testInfo: TestInfo) => testInfo.project.name === "hydrated";

/** axe-core finds no violation on the page (`what` names it). axe-core runs as a script in
 * the page, so only where scripts run (project "hydrated"). */
export async function noViolations(page: Page, testInfo: TestInfo, what: string) {
  if (!hydrated(testInfo)) return;
  const results = await new AxeBuilder({ page }).analyze();
  const found = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(", ")}`);
  expect(found, what).toEqual([]);
}
