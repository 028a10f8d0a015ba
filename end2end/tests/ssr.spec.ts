import { test, expect } from "@playwright/test";
import { apiJoin, uniqueEvent } from "./helpers";

// JavaScript disabled: the server-rendered page alone must work.

test("the join page renders its form without JavaScript", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Join the line" })).toBeVisible();
  await expect(page.getByLabel("Event")).toBeVisible();
  // Nobody types who they are: the browser is its own identity.
  await expect(page.getByLabel("Your id")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Join" })).toBeEnabled();
});

test("joining works without JavaScript and the status page renders", async ({ page, request }) => {
  const event = uniqueEvent("nojs");
  await apiJoin(request, event, "holder"); // takes the only slot (capacity 1)
  await page.goto("/");
  await page.getByLabel("Event").fill(event);
  await page.getByRole("button", { name: "Join" }).click();
  await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("status")).toHaveText("WAITING");
  await expect(page.getByTestId("position")).toHaveText("1");
  // No WASM ran, and without JavaScript the page refreshes itself.
  await expect(page.locator(".live")).toHaveAttribute("data-hydrated", "false");
  await expect(page.locator('noscript')).toHaveCount(1);
});

test("an unknown session shows a readable message", async ({ page }) => {
  const res = await page.goto("/queue/00000000-0000-4000-8000-000000000000");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("alert")).toContainText("no session with this id");
});
