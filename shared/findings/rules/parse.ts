// KFS-PARSE-001: the content is not a readable certificate, so nothing else about it can be assessed.
import type { InventoryRule, RuleSubject } from '../rule';

export const unreadableCertificate: InventoryRule = {
  id: 'KFS-PARSE-001',
  scope: 'inventory',
  title: 'Certificate content cannot be parsed',
  severities: ['medium'],
  remediation:
    'Fetch the certificate from its source again and re-import it into Command; if the stored bytes are corrupt, find out how.',
  evaluate(subject: RuleSubject) {
    const error = subject.parseError;
    if (error === null) return null;
    const where = subject.command === null ? 'The file' : `Command certificate ${subject.command.Id}`;
    return {
      severity: 'medium',
      message: `${where} does not hold a readable X.509 certificate (${error.reason}: ${error.message}); its key, signature and dates cannot be assessed.`,
    };
  },
};
