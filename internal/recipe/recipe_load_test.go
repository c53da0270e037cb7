package recipe

import "testing"

func TestRealRecipesLoad(t *testing.T) {
	rs, err := LoadDir("../../" + Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 7 {
		t.Fatalf("only %d recipes", len(rs))
	}
}
