import { Card, Result } from 'antd';
import { ClockCircleOutlined } from '@ant-design/icons';
import { useT, type MessageKey } from '../i18n';

export function ComingSoon({ titleKey }: { titleKey: MessageKey }) {
  const t = useT();
  return (
    <Card data-testid="coming-soon">
      <Result icon={<ClockCircleOutlined />} title={`${t(titleKey)} · ${t('common.comingSoon')}`} subTitle={t('common.comingSoonDesc')} />
    </Card>
  );
}
