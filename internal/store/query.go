package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Conds collects the WHERE conditions of a list query and their arguments;
// every package that pages over a table builds its filter with it.
type Conds struct {
	Where []string
	Args  []any
}

// Add appends a condition whose every $? is the placeholder of v.
func (c *Conds) Add(cond string, v any) {
	c.Args = append(c.Args, v)
	c.Where = append(c.Where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(c.Args))))
}

// Clause returns the conditions as " WHERE a AND b", or "" without any.
func (c *Conds) Clause() string {
	if len(c.Where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.Where, " AND ")
}

// Eq adds col = v unless v is empty.
func (c *Conds) Eq(col, v string) {
	if v != "" {
		c.Add(col+" = $?", v)
	}
}

// ListPage returns one page of rows of table (a table or view) matching c in
// the given order, and the total number matching. A limit of 0 or less means
// 100; more than 1000 means 1000; a negative offset means 0.
func ListPage[T any](ctx context.Context, pool *pgxpool.Pool, table, columns string, c Conds,
	order string, limit, offset int, scan func(pgx.Row) (T, error),
) ([]T, int, error) {
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	offset = max(offset, 0)
	cond := c.Clause()
	// The total and the page are two statements on two connections at
	// once: each finds the rows again (a user's slice of 30,000 channels
	// is most of the cost), so together they take the longer of the two,
	// not the sum. The count is waited for on every path.
	type counted struct {
		total int
		err   error
	}
	count := make(chan counted, 1)
	go func() {
		var n counted
		n.err = pool.QueryRow(ctx, "SELECT count(*) FROM "+table+cond, c.Args...).Scan(&n.total)
		count <- n
	}()
	items, err := listRows(ctx, pool, table, columns, cond, c.Args, order, limit, offset, scan)
	n := <-count
	if n.err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", table, n.err)
	}
	if err != nil {
		return nil, 0, err
	}
	return items, n.total, nil
}

// listRows reads one page of ListPage.
func listRows[T any](ctx context.Context, pool *pgxpool.Pool, table, columns, cond string, condArgs []any,
	order string, limit, offset int, scan func(pgx.Row) (T, error),
) ([]T, error) {
	args := make([]any, 0, len(condArgs)+2)
	args = append(append(args, condArgs...), limit, offset)
	q := fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s LIMIT $%d OFFSET $%d", columns, table, cond, order, len(args)-1, len(args))
	rows, err := pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", table, err)
	}
	defer rows.Close()
	items := []T{}
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", table, err)
	}
	return items, nil
}

// EscapeLike escapes the wildcards of s for a LIKE/ILIKE pattern.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
