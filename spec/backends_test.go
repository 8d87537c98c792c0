package spec_test

import _ "github.com/zeromq-lockstep/lockstep/backend/all" // the scripts run on every backend
