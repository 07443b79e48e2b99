// Package objstore is the object store behind recordings: a local directory
// (the default) or an S3 bucket (MinIO in production and in tests, through
// minio-go), behind one Store interface.
//
// Every object is first written as a local file (WritePath) and then made the
// object by Commit. For the directory backend the file already is the object
// and Commit makes it durable (fsync); for S3 the file sits in a spool
// directory and Commit uploads it and removes it. So a crashed writer always
// leaves a local file to repair, whichever the backend, and each byte reaches
// the final storage once.
package objstore
