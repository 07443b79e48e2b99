package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "SHARPEYES_"

// Service is the configuration of one service: it knows its defaults and how to validate itself.
type Service interface {
	// SetDefaults fills every field with its default value.
	SetDefaults()
	// Validate reports every wrong value as a *FieldError (joined).
	Validate() error
	// LogConfig returns the log section, which every service has.
	LogConfig() Log
}

// Load builds cfg from its defaults, the YAML file at path (skipped when path is ""),
// and the SHARPEYES_* entries of environ (os.Environ() format), then validates it.
// The returned warnings name SHARPEYES_* variables that match no key.
func Load(path string, cfg Service, environ []string) (warnings []string, err error) {
	cfg.SetDefaults()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		if err := decodeYAML(data, cfg); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	warnings, err = applyEnv(cfg, environ)
	if err != nil {
		return warnings, err
	}
	if err := cfg.Validate(); err != nil {
		return warnings, err
	}
	return warnings, nil
}

func decodeYAML(data []byte, cfg any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true) // a misspelt key is an error, not a silently ignored line
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Print writes cfg as YAML with secrets masked.
func Print(w io.Writer, cfg any) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	return enc.Close()
}

// EnvKeys lists every environment variable that can override a field of cfg, sorted.
func EnvKeys(cfg any) []string {
	var keys []string
	walkFields(reflect.ValueOf(cfg).Elem(), nil, func(path []string, _ reflect.Value) {
		keys = append(keys, envName(path))
	})
	sort.Strings(keys)
	return keys
}

func applyEnv(cfg any, environ []string) ([]string, error) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v
		}
	}
	var errs []error
	walkFields(reflect.ValueOf(cfg).Elem(), nil, func(path []string, f reflect.Value) {
		name := envName(path)
		v, ok := env[name]
		if !ok {
			return
		}
		delete(env, name)
		if err := setScalar(f, v); err != nil {
			errs = append(errs, fieldErr(strings.Join(path, "."), "from %s: %v", name, err))
		}
	})
	var warnings []string
	for k := range env {
		warnings = append(warnings, fmt.Sprintf("environment variable %s matches no setting of this service", k))
	}
	sort.Strings(warnings)
	return warnings, errors.Join(errs...)
}

func envName(path []string) string {
	return EnvPrefix + strings.ToUpper(strings.Join(path, "_"))
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// walkFields calls fn for every settable leaf field, with its YAML key path.
func walkFields(v reflect.Value, path []string, fn func([]string, reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		key, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "-" {
			continue
		}
		f := v.Field(i)
		if opts == "inline" {
			walkFields(f, path, fn)
			continue
		}
		if key == "" {
			key = strings.ToLower(sf.Name)
		}
		p := append(append([]string(nil), path...), key)
		if f.Kind() == reflect.Struct && !reflect.PointerTo(f.Type()).Implements(textUnmarshaler) {
			walkFields(f, p, fn)
			continue
		}
		fn(p, f)
	}
}

func setScalar(f reflect.Value, s string) error {
	if u, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(s))
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("want true or false, got %q", s)
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("want an integer, got %q", s)
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("want a non-negative integer, got %q", s)
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(strings.TrimSpace(s), f.Type().Bits())
		if err != nil {
			return fmt.Errorf("want a number, got %q", s)
		}
		f.SetFloat(n)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", f.Type())
		}
		var items []string
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		out := reflect.MakeSlice(f.Type(), len(items), len(items))
		for i, item := range items {
			out.Index(i).SetString(item)
		}
		f.Set(out)
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}
