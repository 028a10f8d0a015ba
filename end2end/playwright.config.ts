import { defineConfig } from "@playwright/test";

// The server is started by ../test.sh (release build, its own redis-server, capacity 1)
// and its address passed in BASE_URL.
const baseURL = process.env.BASE_URL ?? "http://127.0.0.1:3000";

const chromium = {
  browserName: "chromium" as const,
  launchOptions: {
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-gpu",
    ],
  },
};

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: { baseURL, trace: "off" },
  projects: [
    {
      name: "no-js",
      testMatch: /(ssr|gate|opening|bots|languages|brand|move)\.spec\.ts/,
      use: { ...chromium, javaScriptEnabled: false },
    },
    {
      name: "hydrated",
      testMatch: /(hydrated|gate|opening|bots|languages|background|brand|move)\.spec\.ts/,
      use: { ...chromium, javaScriptEnabled: true },
    },
    {
      name: "console",
      testMatch: /console\.spec\.ts/,
      use: { ...chromium, javaScriptEnabled: true },
    },
  ],
});
