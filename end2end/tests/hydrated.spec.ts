import { test, expect } from "@playwright/test";
import { apiJoin, apiLeave, uniqueEvent } from "./helpers";

// JavaScript enabled: the WASM hydrates the page and takes over.

test("the live status island hydrates under the page's Content-Security-Policy", async ({ page, request }) => {
  const refused: string[] = [];
  page.on("console", (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) refused.push(msg.text());
  });
  const me = await apiJoin(request, uniqueEvent("island"), "me");
  const res = await page.goto(`/queue/${me.sessionId}`);
  const csp = res?.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("script-src 'self' 'nonce-");
  expect(res?.headers()["cache-control"]).toBe("no-store");
  // Only the WASM flips this attribute (on the island's root).
  await expect(page.locator(".live")).toHaveAttribute("data-hydrated", "true");
  expect(refused).toEqual([]);
});

test("a join the server refuses comes back to the form with a readable message", async ({ page }) => {
  await page.goto("/");
  // Get past the browser's own check of the pattern, as an old browser or a script would.
  await page.locator("#event_id").evaluate((el) => el.removeAttribute("pattern"));
  await page.getByLabel("Event").fill("no spaces allowed");
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page).toHaveURL(/\/\?/);
  await expect(page.getByRole("alert")).toContainText("eventId may only contain letters, digits");
  await expect(page.getByLabel("Event")).toBeVisible();
});

test("join from the form, wait with a position, then get in when a slot frees", async ({ page, request }) => {
  const event = uniqueEvent("hyd");
  const holder = await apiJoin(request, event, "holder"); // capacity 1: holder is ACTIVE
  await page.goto("/");
  await page.getByLabel("Event").fill(event);
  await page.getByRole("button", { name: "Join" }).click();

  await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("status")).toHaveText("WAITING");
  await expect(page.getByTestId("position")).toHaveText("1");
  await expect(page.getByTestId("estimate")).toContainText("Estimated wait");
  await expect(page.locator(".live")).toHaveAttribute("data-hydrated", "true");

  // The holder gives the slot back: the page, polling, turns ACTIVE with a pass.
  await apiLeave(request, holder.sessionId);
  await expect(page.getByTestId("status")).toHaveText("ACTIVE");
  await expect(page.getByText("It's your turn")).toBeVisible();
  await expect(page.getByTestId("pass")).toContainText("Your pass is saved in this browser");
});

test("a reload of the queue page keeps the place, and Leave works", async ({ page, request }) => {
  const event = uniqueEvent("reload");
  await apiJoin(request, event, "holder");
  await apiJoin(request, event, "first");
  const me = await apiJoin(request, event, "second");
  await page.goto(`/queue/${me.sessionId}`);
  await expect(page.getByTestId("position")).toHaveText("2");
  await page.reload();
  await expect(page.locator(".live")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("position")).toHaveText("2");

  await page.getByRole("button", { name: "Leave the line" }).click();
  await expect(page.getByTestId("status")).toHaveText("LEFT");
  const res = await request.get(`/api/waiting-room/sessions/${me.sessionId}`);
  expect((await res.json()).status).toBe("LEFT");
});
