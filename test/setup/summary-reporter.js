/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after Jest's own summary, so
 * CI logs state the count in a form any tool can read.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(
      `\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`,
    );
  }
}
module.exports = SummaryReporter;
