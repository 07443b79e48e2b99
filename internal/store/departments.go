package store

import "time"

// Levels of departments: the administrative ones follow the civil code,
// LevelUnit is a free unit (公安分局, 城管, 交警, …) anywhere in the tree.
const (
	LevelProvince = "province"
	LevelCity     = "city"
	LevelCounty   = "county"
	LevelTownship = "township"
	LevelVillage  = "village"
	LevelUnit     = "unit"
)

// ValidLevel reports whether level is one of the department levels.
func ValidLevel(level string) bool {
	switch level {
	case LevelProvince, LevelCity, LevelCounty, LevelTownship, LevelVillage, LevelUnit:
		return true
	}
	return false
}

// MaxDepartmentNameLen bounds department names (characters).
const MaxDepartmentNameLen = 128

// Department is a node of the department tree.
type Department struct {
	ID int64
	// ParentID is the parent department; 0 for a root.
	ParentID int64
	Name     string
	// Level is one of the Level constants.
	Level string
	// CivilCode is the region the department stands for (2–10 digits, in
	// pairs); "" for a free unit.
	CivilCode string
	CreatedAt time.Time
	UpdatedAt time.Time
}
