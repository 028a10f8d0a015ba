import { test, expect } from "@playwright/test";
import { uniqueEvent } from "./helpers";

// A scheduled opening (README, "A fair start"), with JavaScript on and off (both projects).

const ADMIN = process.env.ADMIN_TOKEN ?? "end2end-admin";

test("before the opening: a countdown and no place; at the opening: the place", async ({ page, request }, testInfo) => {
  const js = testInfo.project.name === "hydrated";
  const event = uniqueEvent("opening");
  const opensAt = new Date(Date.now() + 6_000).toISOString();
  const res = await request.put(`/api/admin/events/${event}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
    data: { capacity: 0, opensAt },
  });
  expect(res.status()).toBe(200);

  await page.goto(`/e/${event}`);
  await page.getByRole("button", { name: "Join the line" }).click();
  await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}/);
  await expect(page.getByTestId("status")).toHaveText("WAITING");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("You're in the pre-queue");
  await expect(page.getByTestId("countdown")).toHaveText(/^0:0[0-6]$/);
  await expect(page.getByTestId("fairness")).toContainText("Arriving early gives no advantage");
  await expect(page.getByTestId("position")).toHaveCount(0);
  if (js) {
    // It counts down in place, between polls.
    const shown = (await page.getByTestId("countdown").textContent()) ?? "";
    await expect(page.getByTestId("countdown")).not.toHaveText(shown, { timeout: 3_000 });
  } else {
    await expect(page.locator("noscript")).toHaveCount(1);
  }

  // The opening: the place in line (without JavaScript the page refreshes itself).
  await expect(page.getByTestId("position")).toHaveText("1", { timeout: 15_000 });
  await expect(page.getByTestId("countdown")).toHaveCount(0);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("You're in line");

  // The receipt: the join number, how the order was made, the place in the draw and the
  // published draw.
  await expect(page.getByTestId("receipt")).toHaveText("Your join number: 1");
  await expect(page.getByTestId("draw")).toContainText("drawn at random at the opening");
  await expect(page.getByTestId("draw")).toContainText("Your place in the draw: 1.");
  const link = page.getByTestId("draw").getByRole("link", { name: "Check the published draw (round 1)" });
  await expect(link).toHaveAttribute("href", `/api/waiting-room/events/${event}/draw`);
  const draw = await request.get(`/api/waiting-room/events/${event}/draw`);
  expect(draw.status()).toBe(200);
  expect(await draw.json()).toMatchObject({ eventId: event, round: 1, firstJoin: 1, count: 1 });
});
