package envelope

import "encoding/json"

// jsonMarshalUnchecked encodes a record without validation, to build
// malformed records in tests.
func jsonMarshalUnchecked(r Record) ([]byte, error) { return json.Marshal(r) }
