package strictyaml

import "fmt"

// Checker collects validation mistakes. Built on a Doc, it places each at
// the position of its key path and knows which keys the file gave; built
// without one (a value made in code), it names the key path alone and takes
// a non-zero value as given.
type Checker struct {
	doc  *Doc
	errs Errors
}

// NewChecker returns a Checker reporting into doc, which may be nil.
func NewChecker(doc *Doc) *Checker { return &Checker{doc: doc} }

// Errorf records a mistake at path.
func (c *Checker) Errorf(path, format string, args ...any) {
	if c.doc != nil {
		c.doc.Errorf(path, format, args...)
		return
	}
	c.errs = append(c.errs, &Error{Path: path, Msg: oneLine(fmt.Sprintf(format, args...))})
}

// Has reports whether path was given: present in the file, or, without a
// file, set (the caller's "value is not zero").
func (c *Checker) Has(path string, set bool) bool {
	if c.doc != nil {
		return c.doc.Has(path)
	}
	return set
}

// Err returns the mistakes recorded, in file order, or nil.
func (c *Checker) Err() error {
	if c.doc != nil {
		return c.doc.Err()
	}
	return c.errs.Err()
}
