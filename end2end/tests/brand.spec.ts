import { test, expect, APIRequestContext } from "@playwright/test";
import { apiJoin, hydrated, noViolations, uniqueEvent } from "./helpers";

// The shop's brand on its line's pages (README, "The shop's brand"), with JavaScript
// (project "hydrated") and without ("no-js").

const ADMIN = process.env.ADMIN_TOKEN ?? "end2end-admin";
// The shop's CDN is played by the test: the browser's request for the logo is answered
// here (no network leaves the machine); everything else is the real room.
const LOGO = "https://cdn.shop.example/brand/logo.svg";
const SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">' +
  '<rect width="120" height="40" rx="6" fill="#0b5394"/>' +
  '<text x="60" y="26" font-family="sans-serif" font-size="16" fill="#fff" text-anchor="middle">ARENA</text></svg>';

async function putBrand(request: APIRequestContext, event: string, brand: object) {
  return request.put(`/api/admin/events/${event}/brand`, {
    headers: { authorization: `Bearer ${ADMIN}` },
    data: brand,
  });
}

test("a branded line shows the shop's logo, name, text and colours, and stays accessible", async ({
  page,
  request,
}, testInfo) => {
  const event = uniqueEvent("brand");
  await apiJoin(request, event, "holder"); // capacity 1: the next one waits
  const res = await putBrand(request, event, {
    displayName: "Arena Tickets",
    logoUrl: LOGO,
    accentColor: "#0b5394",
    backgroundColor: "#101820",
    text: "**Doors** open at 19:00. [Seat map](https://shop.example/map)",
  });
  expect(res.status()).toBe(200);
  await page.route(LOGO, (route) =>
    route.fulfill({ status: 200, contentType: "image/svg+xml", body: SVG }),
  );

  const response = await page.goto(`/e/${event}`);
  // The page's policy allows images from the logo's origin, and nothing else changes.
  const policy = response!.headers()["content-security-policy"];
  expect(policy).toContain("img-src 'self' data: https://cdn.shop.example;");
  expect(policy).toContain("style-src 'self';");
  expect(policy).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval';/);

  const logo = page.locator("img.shop-logo");
  await expect(logo).toHaveAttribute("src", LOGO);
  await expect(logo).toHaveJSProperty("naturalWidth", 120); // loaded: the policy let it in
  await expect(page.locator(".shop-name")).toHaveText("Arena Tickets");
  await expect(page.locator(".shop-text strong")).toHaveText("Doors");
  await expect(page.locator(".shop-text a")).toHaveAttribute("href", "https://shop.example/map");
  // The colours: the background behind the card, the accent on the button, and the text
  // the room chose for contrast (white on both).
  await expect(page.locator("body")).toHaveCSS("background-color", "rgb(16, 24, 32)");
  const join = page.getByRole("button", { name: "Join the line" });
  await expect(join).toHaveCSS("background-color", "rgb(11, 83, 148)");
  await expect(join).toHaveCSS("color", "rgb(255, 255, 255)");
  await expect(page.locator(".masthead .brand")).toHaveCSS("color", "rgb(255, 255, 255)");
  await expect(page.locator(".shop-name")).toHaveCSS("color", "rgb(255, 255, 255)");
  await noViolations(page, testInfo, "the branded event page");

  // The place's page wears it too.
  await join.click();
  await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}/);
  await expect(page.getByTestId("status")).toHaveText("WAITING");
  await expect(page.locator(".shop-name")).toHaveText("Arena Tickets");
  await expect(page.locator("img.shop-logo")).toHaveJSProperty("naturalWidth", 120);
  await expect(page.locator("body")).toHaveCSS("background-color", "rgb(16, 24, 32)");
  await noViolations(page, testInfo, "the branded place page");
  if (process.env.BRAND_SCREENSHOT) {
    await page.screenshot({ path: process.env.BRAND_SCREENSHOT, fullPage: true });
  }
});

test("a hostile brand value is refused, and nothing an operator types runs", async ({
  page,
  request,
}, testInfo) => {
  const event = uniqueEvent("hostile");
  for (const bad of [
    { logoUrl: "javascript:alert(1)" },
    { logoUrl: 'https://cdn.shop.example/x.svg" onerror="alert(1)' },
    { accentColor: "red;}</style><script>alert(1)</script>" },
    { backgroundColor: "#fff; background-image: url(https://evil.example/x)" },
    { text: "<script>alert(1)</script>" },
    { text: "hello <img src=x onerror=alert(1)>" },
    { accentColor: "#ffd700" }, // unreadable on the white card: refused with its contrast
  ]) {
    const res = await putBrand(request, event, bad);
    expect(res.status(), JSON.stringify(bad)).toBe(400);
    expect((await res.json()).error.code).toBe("invalid_brand");
  }
  // What is accepted is shown as text, or sanitised: markup in the name, a javascript:
  // link in the Markdown.
  const ok = await putBrand(request, event, {
    displayName: "<script>window.ran = 1</script>Arena",
    text: "[click me](javascript:window.ran=2) and *welcome*",
  });
  expect(ok.status()).toBe(200);
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`/e/${event}`);
  await expect(page.locator(".shop-name")).toHaveText("<script>window.ran = 1</script>Arena");
  await expect(page.locator(".shop-text em")).toHaveText("welcome");
  const link = page.locator(".shop-text a");
  await expect(link).toHaveText("click me");
  await expect(link).not.toHaveAttribute("href", /./);
  await link.click();
  if (hydrated(testInfo)) {
    expect(await page.evaluate(() => (window as unknown as { ran?: number }).ran)).toBeUndefined();
  }
  expect(dialogs).toEqual([]);
});
