package io.edgesync.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}) driven through
 * WebDriver, for the dashboard's tests. Without them the tests are skipped with a notice naming the
 * packages: nothing is downloaded at run time. Not thread safe (one test's browser).
 */
final class Browser implements AutoCloseable {
  /** Debian's paths; the properties point elsewhere (or at nothing, to see the skip). */
  static final Path CHROMIUM =
      Path.of(System.getProperty("edgesync.test.chromium", "/usr/bin/chromium"));

  static final Path CHROMEDRIVER =
      Path.of(System.getProperty("edgesync.test.chromedriver", "/usr/bin/chromedriver"));
  private static final Duration WAIT = Duration.ofSeconds(15);

  final ChromeDriver driver;
  private final String base;

  private Browser(ChromeDriver driver, String base) {
    this.driver = driver;
    this.base = base;
  }

  /** Skips the calling test (with a notice) unless Chromium and its driver are installed. */
  static void assumeInstalled() {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    String notice =
        "notice: dashboard browser tests skipped: "
            + CHROMIUM
            + " and "
            + CHROMEDRIVER
            + " are needed (Debian: apt-get install chromium chromium-driver)";
    if (!present) {
      System.err.println(notice); // the notice the issue asks for, in the build's output
    }
    assumeTrue(present, notice);
  }

  /** A headless browser for the server on {@code port} (plain HTTP on this machine). */
  static Browser open(int port) {
    assumeInstalled();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox", // tests run as root in CI, where Chromium's sandbox refuses to start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000");
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
    return new Browser(new ChromeDriver(service, options), "http://127.0.0.1:" + port);
  }

  /** Opens the dashboard and logs in with {@code apiKey}; waits until the role is shown. */
  void login(String apiKey) {
    driver.get(base + "/dashboard/");
    WebElement key = waitVisible(By.id("api-key"));
    key.sendKeys(apiKey);
    driver.findElement(By.id("login-button")).click();
    waitVisible(By.id("who-role"));
  }

  /** Logs out (the key leaves session storage). */
  void logout() {
    driver.findElement(By.id("logout")).click();
    waitVisible(By.id("api-key"));
  }

  void go(String hash) {
    driver.get(base + "/dashboard/" + hash);
  }

  WebElement waitVisible(By by) {
    return new WebDriverWait(driver, WAIT).until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  void waitText(By by, String text) {
    new WebDriverWait(driver, WAIT)
        .until(ExpectedConditions.textToBePresentInElementLocated(by, text));
  }

  /** Waits until {@code script} (a JavaScript expression) is truthy. */
  Object waitScript(String script) {
    return new WebDriverWait(driver, WAIT)
        .until(d -> ((JavascriptExecutor) d).executeScript("return " + script));
  }

  Object script(String script) {
    return driver.executeScript("return " + script);
  }

  List<WebElement> all(By by) {
    return driver.findElements(by);
  }

  /** Saves a screenshot as target/dashboard-{name}.png (for review); returns its path. */
  Path screenshot(String name) throws IOException {
    File shot = driver.getScreenshotAs(OutputType.FILE);
    Path to = Path.of("target", "dashboard-" + name + ".png");
    Files.createDirectories(to.getParent());
    Files.copy(shot.toPath(), to, StandardCopyOption.REPLACE_EXISTING);
    return to;
  }

  @Override
  public void close() {
    driver.quit();
  }
}
