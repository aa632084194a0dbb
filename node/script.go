package node

type scriptEngine struct{}

func (e *scriptEngine) init(s *Server) {}

func isScriptBusy() bool { return false }
