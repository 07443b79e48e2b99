// Package pgtest gives tests a fresh PostgreSQL database: NewDB starts one
// private cluster (pgcluster) per test process, stopped by Main, and gives
// every test a database of its own. Tests that need the sharpeyes schema
// use storetest, which applies it on top.
package pgtest
