import { test, expect, Page, TestInfo } from "@playwright/test";
import { apiJoin, apiLeave, hydrated, noViolations, uniqueEvent } from "./helpers";

// Taking a place to another device (README, "Take your place with you"), with JavaScript
// (project "hydrated") and without ("no-js"): the waiting page gives a one-time link and
// its QR code; opened in a second browser, the place moves there with its turn and the
// first page says it moved; the link does not work twice.

/** The page's status, once it shows `status`: polled by the page itself with JavaScript,
 * reloaded without (as its refresh would). */
async function showsStatus(page: Page, testInfo: TestInfo, status: string) {
  if (!hydrated(testInfo)) await page.reload();
  await expect(page.getByTestId("status")).toHaveText(status, { timeout: 15_000 });
}

test("a place moves to a second browser by its link, once, with its turn", async ({ page, browser, request }, testInfo) => {
  const js = hydrated(testInfo);
  const event = uniqueEvent("move");
  const holder = await apiJoin(request, event, "holder"); // capacity 1: holder is ACTIVE
  await page.goto(`/e/${event}`);
  await page.getByRole("button", { name: "Join the line" }).click();
  await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}$/);
  const first = page.url();
  await expect(page.getByTestId("position")).toHaveText("1");

  // The waiting page links to the move page: a link and its QR code, made by the room.
  await page.getByRole("link", { name: "Take my place to another device" }).click();
  await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}\/move$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Take your place to another device");
  const qr = page.getByRole("img", { name: "QR code of the link" });
  await expect(qr.locator("svg path")).toHaveCount(1);
  const link = await page.getByTestId("move-link").getAttribute("href");
  expect(link).toMatch(new RegExp(`/move/${event}/2-[0-9a-f]{32}$`));
  await noViolations(page, testInfo, "the move page");
  if (process.env.MOVE_SCREENSHOT && js) {
    await page.screenshot({ path: process.env.MOVE_SCREENSHOT, fullPage: true });
  }

  // The second browser opens it and moves the place there: same turn, a new address.
  const phoneContext = await browser.newContext({ javaScriptEnabled: js });
  const phone = await phoneContext.newPage();
  await phone.goto(link!);
  await expect(phone.getByRole("heading", { level: 1 })).toHaveText("Move this place in line to this browser");
  await noViolations(phone, testInfo, "the take page");
  await phone.getByRole("button", { name: "Move the place here" }).click();
  await expect(phone).toHaveURL(/\/queue\/[0-9a-f-]{36}$/);
  expect(phone.url()).not.toEqual(first);
  await expect(phone.getByTestId("status")).toHaveText("WAITING");
  await expect(phone.getByTestId("position")).toHaveText("1");

  // The first browser's page says the place moved.
  await page.goto(first);
  await showsStatus(page, testInfo, "MOVED");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your place moved to another device");
  await expect(page.getByRole("button", { name: "Leave the line" })).toHaveCount(0);

  // Used once: in a third browser the link is refused, and says why.
  const thirdContext = await browser.newContext({ javaScriptEnabled: js });
  const third = await thirdContext.newPage();
  await third.goto(link!);
  await third.getByRole("button", { name: "Move the place here" }).click();
  await expect(third.getByTestId("take-error")).toContainText("expired or was used already");
  await expect(third).toHaveURL(new RegExp(`/move/${event}/`));
  await thirdContext.close();

  // The turn comes on the phone.
  await apiLeave(request, holder.sessionId);
  await showsStatus(phone, testInfo, "ACTIVE");
  await phoneContext.close();
});
