import { test, expect } from "@playwright/test";
import { apiJoin, apiLeave, hydrated, noViolations, uniqueEvent } from "./helpers";

// The page in the visitor's language (README, "Languages"), with JavaScript (project
// "hydrated") and without ("no-js"): picked from Accept-Language, switched by plain links
// that are remembered, Arabic right to left, and accessible in every language.

test.describe("a German browser", () => {
  test.use({ locale: "de-DE" });

  test("joins, waits and gets in, all in German", async ({ page, request }, testInfo) => {
    const event = uniqueEvent("de");
    const holder = await apiJoin(request, event, "holder"); // capacity 1: holder is ACTIVE
    await page.goto(`/e/${event}`);
    await expect(page.locator("html")).toHaveAttribute("lang", "de");
    await expect(page.locator("html")).toHaveAttribute("dir", "ltr");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(
      "Für diesen Verkauf gibt es eine Warteschlange",
    );
    await page.getByRole("button", { name: "Anstellen" }).click();

    await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sie sind in der Warteschlange");
    await expect(page.getByTestId("status")).toHaveText("WAITING");
    await expect(page.getByTestId("position")).toHaveText("1");
    await expect(page.locator(".position")).toHaveText("Platz 1 in der Warteschlange");
    await expect(page.getByRole("button", { name: "Warteschlange verlassen" })).toBeVisible();
    await noViolations(page, testInfo, "German, waiting");

    if (hydrated(testInfo)) {
      // The island's next poll brings the new status with its words in German.
      await expect(page.locator(".live")).toHaveAttribute("data-hydrated", "true");
      await apiLeave(request, holder.sessionId);
      await expect(page.getByTestId("status")).toHaveText("ACTIVE");
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sie sind an der Reihe! Sie sind drin.");
      await expect(page.getByTestId("pass")).toContainText("Ihr Pass ist in diesem Browser gespeichert.");
      await noViolations(page, testInfo, "German, admitted");
    }
  });

  test("reads the room's errors in German", async ({ page }) => {
    await page.goto("/queue/not-a-session");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Dieser Platz ließ sich nicht anzeigen");
    await expect(page.getByRole("alert")).toHaveText("Das ist nicht die Adresse eines Platzes in der Warteschlange.");
  });
});

test.describe("an Arabic browser", () => {
  test.use({ locale: "ar-EG" });

  test("gets the page right to left, mirrored", async ({ page, request }, testInfo) => {
    const event = uniqueEvent("ar");
    await apiJoin(request, event, "holder");
    const me = await apiJoin(request, event, "me");
    await page.goto(`/queue/${me.sessionId}`);
    await expect(page.locator("html")).toHaveAttribute("lang", "ar");
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("أنت في الطابور");
    await expect(page.getByTestId("position")).toHaveText("1");
    expect(await page.evaluate(() => getComputedStyle(document.body).direction)).toBe("rtl");
    // Mirrored: the brand starts the masthead on the right, the language links end it on
    // the left.
    const brand = (await page.locator(".brand").boundingBox())!;
    const langs = (await page.locator("nav.langs").boundingBox())!;
    expect(brand.x).toBeGreaterThan(langs.x + langs.width - 1);
    await noViolations(page, testInfo, "Arabic, waiting");
  });
});

test("the language links work without JavaScript, keep the page's query and are remembered", async ({
  page,
  request,
}) => {
  const event = uniqueEvent("switch");
  await apiJoin(request, event, "holder");
  const shop = "https://shop.example/checkout";
  await page.goto(`/e/${event}?return=${encodeURIComponent(shop)}`);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  const links = page.getByRole("navigation", { name: "Language" });
  await expect(links.getByRole("link", { name: "English" })).toHaveAttribute("aria-current", "true");

  await links.getByRole("link", { name: "Français" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page).toHaveURL(/[?&]lang=fr/);
  expect(new URL(page.url()).searchParams.get("return")).toBe(shop);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Cette vente a une file d’attente");

  // Remembered: the next page, without ?lang=, is French too, and so is the place's page
  // after the join (and, with JavaScript, its polls).
  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Rejoindre la file");
  await page.getByLabel("Événement").fill(event);
  await page.getByRole("button", { name: "Rejoindre" }).click();
  await expect(page).toHaveURL(/\/queue\//);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Vous êtes dans la file");
  await expect(page.getByRole("navigation", { name: "Langue" }).getByRole("link", { name: "Français" }))
    .toHaveAttribute("aria-current", "true");
});

test("every language's pages have no axe-core violations", async ({ page, request }, testInfo) => {
  test.skip(!hydrated(testInfo), "axe-core runs as a script in the page");
  const event = uniqueEvent("axe-lang");
  await apiJoin(request, event, "holder");
  const me = await apiJoin(request, event, "me");
  for (const lang of ["en", "de", "fr", "es", "ja", "ar"]) {
    for (const path of [`/e/${event}-open`, `/queue/${me.sessionId}`, "/"]) {
      await page.goto(`${path}${path.includes("?") ? "&" : "?"}lang=${lang}`);
      await expect(page.locator("html")).toHaveAttribute("lang", lang);
      await noViolations(page, testInfo, `${lang} ${path}`);
    }
  }
});
