import { createHmac } from "node:crypto";
import { test, expect } from "@playwright/test";
import { uniqueEvent } from "./helpers";

// Bots and accounts (README): the page's time-lock while a challenge is in force, and the
// shop's enqueue token through the line's URL; with JavaScript on and off (both projects).

const ADMIN = process.env.ADMIN_TOKEN ?? "end2end-admin";
const SECRET = "an end-to-end secret of at least 32 bytes";

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

/** An HS256 enqueue token for `sub` in `event`, living ten minutes. */
function token(event: string, sub: string): string {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({ aud: event, sub, exp: Math.floor(Date.now() / 1000) + 600 }));
  const mac = createHmac("sha256", SECRET).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64url(mac)}`;
}

test("a visitor joins through the time-lock: the page says how long and comes back with the button", async ({ page, request }) => {
  const event = uniqueEvent("locked");
  const res = await request.put(`/api/admin/events/${event}/entry`, {
    headers: { authorization: `Bearer ${ADMIN}` },
    data: { entry: "open", challenge: "always" },
  });
  expect(res.status()).toBe(200);

  const started = Date.now();
  await page.goto(`/e/${event}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("One moment before you join");
  await expect(page.getByRole("status")).toContainText("everyone waits 2 seconds");
  await page.getByRole("button", { name: "Join the line" }).click({ timeout: 15_000 });
  console.log(`time-lock at level 1: the join button came back after ${Date.now() - started} ms`);
  await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}/);
  await expect(page.getByTestId("status")).toHaveText(/WAITING|ACTIVE/);
});

test("the shop's token: dropped from the URL, one place per account, another browser is refused", async ({ page, browser, request }, testInfo) => {
  const js = testInfo.project.name === "hydrated";
  const event = uniqueEvent("accounts");
  const res = await request.put(`/api/admin/events/${event}/entry`, {
    headers: { authorization: `Bearer ${ADMIN}` },
    data: { entry: "token", alg: "HS256", secret: SECRET, challenge: "off" },
  });
  expect(res.status()).toBe(200);

  await page.goto(`/e/${event}?enqueue_token=${token(event, "fan-1")}`);
  await expect(page).not.toHaveURL(/enqueue_token/);
  await page.getByRole("button", { name: "Join the line" }).click();
  await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}/);
  const place = page.url();

  const other = await browser.newContext({ javaScriptEnabled: js });
  const second = await other.newPage();
  await second.goto(`/e/${event}?enqueue_token=${token(event, "fan-1")}`);
  await second.getByRole("button", { name: "Join the line" }).click();
  await expect(second.getByRole("alert")).toContainText("another browser");
  await expect(second).not.toHaveURL(/\/queue\//);
  await other.close();

  // Without a token: told to come from the shop.
  const stranger = await browser.newContext({ javaScriptEnabled: js });
  const third = await stranger.newPage();
  await third.goto(`/e/${event}`);
  await third.getByRole("button", { name: "Join the line" }).click();
  await expect(third.getByRole("alert")).toContainText("open it from the shop");
  await stranger.close();

  // The holder finds its place again.
  await page.goto(`/e/${event}`);
  await expect(page).toHaveURL(place);
});
