package recbench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// SumMetric adds up every sample of the Prometheus metric name in a text
// exposition (all its label sets); a name with a service prefix
// (sharpeyes_mediagw_…) matches its suffix.
func SumMetric(text []byte, name string) (float64, error) {
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		metric, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(metric, '{'); i >= 0 {
			// A label value may hold a space: the value follows the '}'.
			end := strings.LastIndexByte(line, '}')
			if end < i {
				return 0, fmt.Errorf("%w: metric line %q", ErrFormat, line)
			}
			metric, value = line[:i], strings.TrimSpace(line[end+1:])
		}
		if metric != name && !strings.HasSuffix(metric, "_"+name) {
			continue
		}
		if f := strings.Fields(value); len(f) > 0 {
			value = f[0] // a timestamp may follow
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: metric %s: %w", ErrFormat, name, err)
		}
		sum += v
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("recbench: metrics: %w", err)
	}
	return sum, nil
}

// Get fetches url with an optional bearer token and returns the body of a
// 200 answer.
func Get(ctx context.Context, url, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("recbench: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("recbench: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("recbench: GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("recbench: GET %s: %s: %.200s", url, resp.Status, b)
	}
	return b, nil
}
