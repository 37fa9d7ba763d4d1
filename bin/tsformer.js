#!/usr/bin/env node
// The installed CLI runs the compiled library (npm install builds dist/ through the "prepare" script).
import "../dist/cli/main.js";
