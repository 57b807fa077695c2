// Package parquetcompare holds the benchmark that chose sseaudit's Parquet
// library for S3 Inventory reports (package inventory). Every candidate
// decodes the same S3-inventory-shaped file (200,000 rows: bucket, key,
// version_id, is_latest, is_delete_marker, size, last_modified_date as
// TIMESTAMP(MILLIS), e_tag, storage_class, is_multipart_uploaded,
// encryption_status, bucket_key_status; snappy; row groups of 64,000 rows)
// into the same row struct, copying every string it keeps:
//
//	cd inventory/parquetcompare && go test -run '^$' -bench . -cpu 1 -benchtime 5x
//
// Measured on the 2-core development machine, shared (load 8-10), so
// ranges over runs (Go 1.26.8, one core, rows/s; binary size is a
// stripped program that opens a file and reads its rows, against 1.7 MB
// for an empty one; maintained: date of the version measured):
//
//	library                                  rows/s      binary  modules  maintained
//	parquet-go/parquet-go v0.32.1, columns   1.0-1.3 M   7.9 MB  10       2026-11-17
//	  (inventory.ParquetReader, the choice)
//	parquet-go/parquet-go v0.32.1, generic   0.5-0.85 M  same    10       2026-11-17
//	apache/arrow-go/v18 v18.9.0, pqarrow     1.4-2.0 M   36.4 MB 19       2026-11-13
//	xitongsys/parquet-go v1.6.2              0.22-0.35 M 5.9 MB  8        2021-12-05, none since
//
// With parquet-go, the sseaudit binary (stripped) grows from 43.7 MB to
// 48.4 MB and by 6 modules (brotli, lz4, go-geom and parquet-go's own
// three; klauspost/compress and protobuf it already had).
//
// arrow-go is the fastest but adds 35 MB and an Arrow runtime for a job
// parquet-go does at 3-4 times the 300,000 rows/s the census needs;
// xitongsys is unmaintained, the slowest and allocates 4 KB per row. No ORC library could be had: the module proxy
// refuses github.com/scritchley/orc, its fork
// github.com/PublicTransitAnalytics/orc and github.com/fallintoplace/orc-go,
// and arrow-go has no ORC reader.
package parquetcompare
