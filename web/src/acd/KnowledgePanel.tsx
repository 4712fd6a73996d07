// 知识库 on the agent desktop: a placeholder until the knowledge base (issue 7) drops its search in
// here. `query` is what the desk knows about the call (the queue, the IVR path), for that search.
import { Card, Empty } from 'antd';
import { BookOutlined } from '@ant-design/icons';
import { useI18n } from '../i18n';

export function KnowledgePanel(_props: { query?: string }) {
  const { t } = useI18n();
  return (
    <Card
      size="small"
      data-testid="knowledge-panel"
      title={
        <span>
          <BookOutlined /> {t('menu.knowledge')}
        </span>
      }
    >
      <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={<span data-testid="knowledge-soon">{t('desk.kb.soon')}</span>} />
    </Card>
  );
}
