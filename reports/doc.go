// Package reports renders what sseaudit found into the formats auditors,
// CI systems and dashboards read. Renderers take finished results and write
// bytes; they must not run scans or scenarios, call any endpoint, or see a
// secret.
package reports
