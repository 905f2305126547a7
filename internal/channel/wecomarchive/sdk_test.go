package wecomarchive

import (
	"errors"
	"fmt"
	"testing"
)

func TestSDKErrorRetryable(t *testing.T) {
	for code := 10000; code <= 10011; code++ {
		err := fmt.Errorf("pull: %w", &SDKError{Code: code})
		want := code >= 10001 && code <= 10003
		if got := IsRetryable(err); got != want {
			t.Errorf("code %d retryable = %v", code, got)
		}
		if SDKErrorCode(err) != code {
			t.Errorf("code %d not recovered", code)
		}
	}
	if IsRetryable(errors.New("other")) || SDKErrorCode(errors.New("x")) != 0 {
		t.Fatal("plain errors are not SDK errors")
	}
	if !IsRetryable(&transportError{errors.New("refused")}) {
		t.Fatal("bridge transport errors are retryable")
	}
	if got := (&SDKError{Code: 10010}).Error(); got != "finance sdk error 10010 (data expired)" {
		t.Fatal(got)
	}
}
