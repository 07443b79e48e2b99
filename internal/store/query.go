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
	cond := ""
	if len(c.Where) > 0 {
		cond = " WHERE " + strings.Join(c.Where, " AND ")
	}
	var total int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table+cond, c.Args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", table, err)
	}
	args := make([]any, 0, len(c.Args)+2)
	args = append(append(args, c.Args...), limit, offset)
	q := fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s LIMIT $%d OFFSET $%d", columns, table, cond, order, len(args)-1, len(args))
	rows, err := pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", table, err)
	}
	defer rows.Close()
	items := []T{}
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("scan %s: %w", table, err)
		}
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", table, err)
	}
	return items, total, nil
}

// EscapeLike escapes the wildcards of s for a LIKE/ILIKE pattern.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
