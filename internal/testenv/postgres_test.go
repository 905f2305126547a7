package testenv

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPostgresIsRealAndDurable: the fixture is a real server, and what it
// committed survives a crash (SIGKILL) and recovery.
func TestPostgresIsRealAndDurable(t *testing.T) {
	pg := StartPostgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL %s", version)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, body text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO t VALUES (1, '内幕消息')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var body string
	if err := conn.QueryRow(ctx, "SELECT body FROM t WHERE id = 1").Scan(&body); err != nil || body != "内幕消息" {
		t.Fatalf("after a crash the committed row reads %q, %v", body, err)
	}
}
